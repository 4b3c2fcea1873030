//! Halstead's measures and the maintainability index of a file.
//!
//! Every token is an operator or an operand, as lizard's Halstead extension reads them:
//! keywords and punctuation are operators; identifiers, numbers, strings and value keywords
//! (`true`, `None`, `null`) are operands. In tree-sitter terms an anonymous token is an
//! operator and a named leaf an operand; a string literal is one operand, however many parts
//! its grammar splits it into.

use rustc_hash::FxHashMap;

use serde::{Deserialize, Serialize};

/// Tallies tokens while the tree is walked. Operands are told apart by a 64-bit hash of their
/// text (computed once per token by the walk, which also uses it for duplicate detection).
#[derive(Debug, Default)]
pub(crate) struct Tally {
    operators: FxHashMap<u16, u32>,
    operands: FxHashMap<u64, u32>,
}

impl Tally {
    pub(crate) fn operator(&mut self, kind_id: u16) {
        *self.operators.entry(kind_id).or_default() += 1;
    }

    pub(crate) fn operand(&mut self, text_hash: u64) {
        *self.operands.entry(text_hash).or_default() += 1;
    }

    pub(crate) fn measures(&self) -> Halstead {
        Halstead::from_counts(
            self.operators.len() as u64,
            self.operands.len() as u64,
            self.operators.values().map(|&n| u64::from(n)).sum(),
            self.operands.values().map(|&n| u64::from(n)).sum(),
        )
    }
}

/// Halstead's measures of one file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Halstead {
    /// n1: distinct operators.
    pub distinct_operators: u64,
    /// n2: distinct operands.
    pub distinct_operands: u64,
    /// N1: all operators.
    pub total_operators: u64,
    /// N2: all operands.
    pub total_operands: u64,
    /// n = n1 + n2.
    pub vocabulary: u64,
    /// N = N1 + N2.
    pub length: u64,
    /// V = N log2 n.
    pub volume: f64,
    /// D = n1/2 × N2/n2.
    pub difficulty: f64,
    /// E = D × V.
    pub effort: f64,
    /// T = E / 18 seconds.
    pub time: f64,
    /// B = V / 3000.
    pub bugs: f64,
}

impl Halstead {
    pub fn from_counts(n1: u64, n2: u64, total1: u64, total2: u64) -> Self {
        let vocabulary = n1 + n2;
        let length = total1 + total2;
        let volume = if vocabulary > 0 { length as f64 * (vocabulary as f64).log2() } else { 0.0 };
        let difficulty = if n2 > 0 { (n1 as f64 / 2.0) * (total2 as f64 / n2 as f64) } else { 0.0 };
        let effort = difficulty * volume;
        Self {
            distinct_operators: n1,
            distinct_operands: n2,
            total_operators: total1,
            total_operands: total2,
            vocabulary,
            length,
            volume,
            difficulty,
            effort,
            time: effort / 18.0,
            bugs: volume / 3000.0,
        }
    }
}

/// The maintainability index on a 0–100 scale, as radon computes it:
/// `171 − 5.2 ln V − 0.23 G − 16.2 ln L + 50 sin √(2.4 C)`, scaled by 100/171 and clamped,
/// where V is the Halstead volume, G the total cyclomatic complexity, L the code lines and C
/// the fraction of lines that are comments. A file without code scores 100.
pub fn maintainability_index(
    volume: f64,
    cyclomatic: u32,
    code_lines: u32,
    comment_lines: u32,
) -> f64 {
    if code_lines == 0 || volume <= 0.0 {
        return 100.0;
    }
    let comments = f64::from(comment_lines) / f64::from(code_lines + comment_lines);
    let raw = 171.0
        - 5.2 * volume.ln()
        - 0.23 * f64::from(cyclomatic)
        - 16.2 * f64::from(code_lines).ln()
        + 50.0 * (2.4 * comments).sqrt().sin();
    (raw * 100.0 / 171.0).clamp(0.0, 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_from_counts() {
        // n1 = 4, n2 = 3, N1 = 6, N2 = 5 (worked by hand).
        let h = Halstead::from_counts(4, 3, 6, 5);
        assert_eq!((h.vocabulary, h.length), (7, 11));
        assert!((h.volume - 11.0 * 7f64.log2()).abs() < 1e-9);
        assert!((h.difficulty - 2.0 * 5.0 / 3.0).abs() < 1e-9);
        assert!((h.effort - h.difficulty * h.volume).abs() < 1e-9);
        assert!((h.bugs - h.volume / 3000.0).abs() < 1e-12);
        assert_eq!(Halstead::from_counts(0, 0, 0, 0), Halstead::default());
    }

    #[test]
    fn maintainability_follows_radon() {
        // V = 100, G = 3, L = 20, no comments: (171 − 23.947 − 0.69 − 48.531) × 100/171.
        let expected = (171.0 - 5.2 * 100f64.ln() - 0.69 - 16.2 * 20f64.ln()) * 100.0 / 171.0;
        assert!((maintainability_index(100.0, 3, 20, 0) - expected).abs() < 1e-9);
        assert_eq!(maintainability_index(0.0, 0, 0, 4), 100.0);
        // Comments raise the index; huge files bottom out at 0.
        assert!(maintainability_index(100.0, 3, 20, 5) > maintainability_index(100.0, 3, 20, 0));
        assert_eq!(maintainability_index(1e12, 5000, 1_000_000, 0), 0.0);
    }
}

#[cfg(test)]
mod token_tests {
    use crate::{Options, analyze};

    /// (file, source, n1, n2, N1, N2), counted by hand.
    const CASES: &[(&str, &str, u64, u64, u64, u64)] = &[
        // operators `=` `+`; operands `x` `a` `1`
        ("a.py", "x = a + 1\n", 2, 3, 2, 3),
        // operators `=` (twice) `*`; operands `y` `x` `"two words"` (one string, one operand)
        ("b.py", "y = x * \"two words\"\nx = y\n", 2, 3, 3, 5),
        // operators `fn` `(` `)` `{` `let`×2 `=`×2 `;`×2 `+` `}`; operands `f` `a`×3 `1` `b`
        ("c.rs", "fn f() { let a = 1; let b = a + a; }\n", 9, 4, 12, 6),
    ];

    #[test]
    fn operators_and_operands() {
        for (path, source, n1, n2, total1, total2) in CASES {
            let h =
                analyze(path, source.as_bytes(), &Options::default()).expect("analyze").halstead;
            assert_eq!(
                (h.distinct_operators, h.distinct_operands, h.total_operators, h.total_operands),
                (*n1, *n2, *total1, *total2),
                "{path}"
            );
        }
    }
}
