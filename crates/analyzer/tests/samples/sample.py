import os
from typing import List


class Shelf:
    """Books on a shelf."""

    def add(self, book, *, position=None):
        # Put the book somewhere sensible.
        if position is None and self.books:
            position = len(self.books)
        elif position < 0 or position > len(self.books):
            raise ValueError("bad position")
        self.books.insert(position, book)

    def titles(self):
        return [b.title for b in self.books if b.title]


def load(path):
    '''Reads a shelf.'''
    try:
        with open(path) as f:
            for line in f:
                while line.endswith("\n"):
                    line = line[:-1]
    except OSError:
        return None
    finally:
        pass

    def helper(x):
        return x if x else 0

    return helper
