import 'dart:math';

class Shelf {
  final List<Book> books = [];

  int add(Book book, {int? position}) {
    if (position == null && books.isNotEmpty) {
      position = books.length;
    } else if (position! < 0 || position > books.length) {
      throw ArgumentError('bad position');
    }
    books.insert(position, book);
    return position;
  }
}

int total(List<int> prices) {
  var sum = 0;
  for (final p in prices) {
    sum += p > 0 ? p : 0;
  }
  return sum;
}
