//! Blocks of code repeated across files (or within one), found on the tokens.
//!
//! Each file's code tokens (comments and white space left out) are hashed; every run of
//! `min_tokens` tokens gets a rolling hash; winnowing keeps, of every 16 neighbouring runs, the
//! one with the smallest hash, so the index holds about one run in eight and still catches every
//! repeat at least `min_tokens + 15` tokens long. A fingerprint seen twice is checked token by
//! token, stretched to its full length both ways, and reported once, on the later copy.

use rustc_hash::FxHashMap;

use ql_analyzer::{Category, Finding, Severity, Token};
use rayon::prelude::*;

/// Neighbouring runs among which winnowing keeps one.
const WINNOW: usize = 16;

/// One repeated block: where it is, and where it was first seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Repeat {
    pub file: usize,
    pub start: usize,
    pub original_file: usize,
    pub original_start: usize,
    pub tokens: usize,
}

/// Finds repeats of at least `min_tokens` tokens among the files' token lists.
pub(crate) fn find(files: &[Vec<Token>], min_tokens: usize) -> Vec<Repeat> {
    let min_tokens = min_tokens.max(1);
    // Fingerprinting is per file and runs in parallel; matching them is one ordered pass.
    let prints: Vec<Vec<(usize, u64)>> =
        files.par_iter().map(|tokens| fingerprints(tokens, min_tokens)).collect();
    let mut index: FxHashMap<u64, (usize, usize)> = FxHashMap::default();
    let mut repeats: Vec<Repeat> = Vec::new();
    for (file, tokens) in files.iter().enumerate() {
        // Positions of this file already inside a reported repeat.
        let mut covered_until = 0;
        for &(position, hash) in &prints[file] {
            let Some(&(other_file, other_start)) = index.get(&hash) else {
                index.insert(hash, (file, position));
                continue;
            };
            if position < covered_until {
                continue;
            }
            let original = &files[other_file];
            if other_file == file && other_start + min_tokens > position {
                continue; // overlaps itself
            }
            if !same(
                &tokens[position..position + min_tokens],
                &original[other_start..other_start + min_tokens],
            ) {
                continue; // a hash collision
            }
            // Stretch both ways while the tokens agree.
            let (mut start, mut original_start) = (position, other_start);
            while start > covered_until
                && original_start > 0
                && tokens[start - 1].hash == original[original_start - 1].hash
                && !(other_file == file
                    && original_start + (position - start) + min_tokens > start - 1)
            {
                start -= 1;
                original_start -= 1;
            }
            let mut length = position + min_tokens - start;
            while start + length < tokens.len()
                && original_start + length < original.len()
                && tokens[start + length].hash == original[original_start + length].hash
                && !(other_file == file && original_start + length >= start)
            {
                length += 1;
            }
            covered_until = start + length;
            repeats.push(Repeat {
                file,
                start,
                original_file: other_file,
                original_start,
                tokens: length,
            });
        }
    }
    repeats
}

/// The findings for the repeats, one on each later copy.
pub(crate) fn findings(
    repeats: &[Repeat],
    tokens: &[Vec<Token>],
    paths: &[String],
) -> Vec<(usize, Finding)> {
    repeats
        .iter()
        .map(|r| {
            let here = &tokens[r.file];
            let there = &tokens[r.original_file];
            let (first, last) = (here[r.start].line, here[r.start + r.tokens - 1].line);
            let (from, to) =
                (there[r.original_start].line, there[r.original_start + r.tokens - 1].line);
            let finding = Finding {
                rule: "quality.duplicate-block".to_owned(),
                category: Category::Quality,
                severity: Severity::Low,
                cwe: None,
                message: format!(
                    "lines {first}-{last} repeat {}:{from}-{to} ({} tokens)",
                    paths[r.original_file], r.tokens
                ),
                line: first,
                column: 1,
                end_line: last,
                snippet: String::new(),
            };
            (r.file, finding)
        })
        .collect()
}

fn same(a: &[Token], b: &[Token]) -> bool {
    a.iter().zip(b).all(|(x, y)| x.hash == y.hash)
}

/// The base of the rolling hash (odd, so multiplication is invertible mod 2^64).
const BASE: u64 = 0x100_0000_01b3;

/// A polynomial hash of a run of tokens: `Σ tᵢ·BASE^(n−1−i)`, wrapping.
fn window_hash(window: &[Token]) -> u64 {
    window.iter().fold(0, |h, t| h.wrapping_mul(BASE).wrapping_add(u64::from(t.hash)))
}

/// The hash of every run of `min_tokens` tokens, rolled in one pass.
fn window_hashes(tokens: &[Token], min_tokens: usize) -> Vec<u64> {
    let Some(last_start) = tokens.len().checked_sub(min_tokens) else { return Vec::new() };
    let top = (1..min_tokens).fold(1u64, |p, _| p.wrapping_mul(BASE));
    let mut hash = window_hash(&tokens[..min_tokens]);
    let mut hashes = Vec::with_capacity(last_start + 1);
    hashes.push(hash);
    for i in 1..=last_start {
        hash = hash
            .wrapping_sub(u64::from(tokens[i - 1].hash).wrapping_mul(top))
            .wrapping_mul(BASE)
            .wrapping_add(u64::from(tokens[i + min_tokens - 1].hash));
        hashes.push(hash);
    }
    hashes
}

/// Start positions of the runs winnowing keeps, with their hashes.
fn fingerprints(tokens: &[Token], min_tokens: usize) -> Vec<(usize, u64)> {
    let hashes = window_hashes(tokens, min_tokens);
    if hashes.is_empty() {
        return Vec::new();
    }
    // The rightmost minimum of each window of WINNOW runs, with a monotonic queue: O(n).
    let width = WINNOW.min(hashes.len());
    let mut queue: std::collections::VecDeque<usize> = std::collections::VecDeque::new();
    let mut kept: Vec<(usize, u64)> = Vec::new();
    for (i, hash) in hashes.iter().enumerate() {
        while queue.back().is_some_and(|&b| hashes[b] >= *hash) {
            queue.pop_back();
        }
        queue.push_back(i);
        if i + 1 >= width {
            let start = i + 1 - width;
            while queue.front().is_some_and(|&f| f < start) {
                queue.pop_front();
            }
            let front = queue.front().copied();
            if let Some(position) = front.filter(|&p| kept.last().map(|(k, _)| *k) != Some(p)) {
                kept.push((position, hashes[position]));
            }
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<Token> {
        text.split_whitespace()
            .enumerate()
            .map(|(i, word)| Token {
                hash: word.bytes().fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b))),
                line: u32::try_from(i / 5 + 1).unwrap_or(0),
            })
            .collect()
    }

    fn words(n: usize, prefix: &str) -> String {
        (0..n).map(|i| format!("{prefix}{i}")).collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn a_block_shared_by_two_files_is_found_once_at_full_length() {
        let shared = words(60, "s");
        let a = tokens(&format!("{} {shared} {}", words(10, "a"), words(10, "b")));
        let b = tokens(&format!("{} {shared}", words(25, "c")));
        let repeats = find(&[a, b], 30);
        assert_eq!(repeats.len(), 1, "{repeats:?}");
        let r = &repeats[0];
        assert_eq!(
            (r.file, r.start, r.original_file, r.original_start, r.tokens),
            (1, 25, 0, 10, 60)
        );
    }

    #[test]
    fn short_repeats_and_distinct_files_give_nothing() {
        let a = tokens(&words(100, "a"));
        let b = tokens(&words(100, "b"));
        assert!(find(&[a.clone(), b], 30).is_empty());
        let shared = words(20, "s");
        let c = tokens(&format!("{} {shared}", words(10, "x")));
        let d = tokens(&format!("{shared} {}", words(10, "y")));
        assert!(find(&[c, d], 30).is_empty(), "20 shared tokens is under the minimum");
        assert!(find(&[a], 30).is_empty());
    }

    #[test]
    fn winnowing_keeps_the_rightmost_minimum_of_every_window() {
        let file = tokens(&words(200, "w"));
        let hashes = window_hashes(&file, 10);
        let kept = fingerprints(&file, 10);
        for start in 0..=hashes.len() - WINNOW {
            let window = &hashes[start..start + WINNOW];
            let min = *window.iter().min().expect("window");
            let rightmost = start + window.iter().rposition(|h| *h == min).expect("min");
            assert!(kept.iter().any(|(p, _)| *p == rightmost), "window {start}");
        }
        assert!(kept.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn rolling_hashes_equal_direct_ones() {
        let file = tokens(&words(50, "r"));
        let rolled = window_hashes(&file, 7);
        for (i, hash) in rolled.iter().enumerate() {
            assert_eq!(*hash, window_hash(&file[i..i + 7]), "window {i}");
        }
        assert_eq!(rolled.len(), 44);
        assert!(window_hashes(&file[..5], 7).is_empty());
    }

    #[test]
    fn a_repeat_inside_one_file_is_found() {
        let block = words(50, "k");
        let file = tokens(&format!("{block} {} {block}", words(10, "m")));
        let repeats = find(&[file], 30);
        assert_eq!(repeats.len(), 1, "{repeats:?}");
        assert_eq!((repeats[0].start, repeats[0].original_start, repeats[0].tokens), (60, 0, 50));
    }
}
