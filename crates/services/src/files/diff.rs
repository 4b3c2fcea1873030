//! Two texts side by side, line against line, for the history's and refinements' diffs.

use similar::{ChangeTag, TextDiff};

/// The most rows a diff returns; the rest is summed up in one last row.
pub const MAX_DIFF_ROWS: usize = 5_000;

/// One row of a side-by-side diff: a line on the left (old), on the right (new), or both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffRow {
    /// `same`, `changed`, `removed` or `added`.
    pub kind: &'static str,
    /// 1-based line number and text of the old side.
    pub old: Option<(usize, String)>,
    pub new: Option<(usize, String)>,
}

/// Compares `old` and `new` line by line. Removed lines directly followed by added ones are
/// paired up as `changed` rows, the way side-by-side viewers show an edit.
pub fn side_by_side(old: &str, new: &str) -> Vec<DiffRow> {
    let diff =
        TextDiff::configure().timeout(std::time::Duration::from_secs(2)).diff_lines(old, new);
    let mut rows = Vec::new();
    let mut removed: Vec<(usize, String)> = Vec::new();
    let mut added: Vec<(usize, String)> = Vec::new();
    let flush = |rows: &mut Vec<DiffRow>,
                 removed: &mut Vec<(usize, String)>,
                 added: &mut Vec<(usize, String)>| {
        let mut removed = std::mem::take(removed).into_iter();
        let mut added = std::mem::take(added).into_iter();
        loop {
            match (removed.next(), added.next()) {
                (None, None) => break,
                (Some(old), Some(new)) => {
                    // Lines that differ only in their line ending read as the same.
                    let kind = if old.1 == new.1 { "same" } else { "changed" };
                    rows.push(DiffRow { kind, old: Some(old), new: Some(new) });
                }
                (Some(old), None) => {
                    rows.push(DiffRow { kind: "removed", old: Some(old), new: None })
                }
                (None, Some(new)) => {
                    rows.push(DiffRow { kind: "added", old: None, new: Some(new) })
                }
            }
        }
    };
    for change in diff.iter_all_changes() {
        let text = change.value().trim_end_matches(['\n', '\r']).to_owned();
        match change.tag() {
            ChangeTag::Delete => removed.push((change.old_index().unwrap_or(0) + 1, text)),
            ChangeTag::Insert => added.push((change.new_index().unwrap_or(0) + 1, text)),
            ChangeTag::Equal => {
                flush(&mut rows, &mut removed, &mut added);
                let old = change.old_index().unwrap_or(0) + 1;
                let new = change.new_index().unwrap_or(0) + 1;
                rows.push(DiffRow {
                    kind: "same",
                    old: Some((old, text.clone())),
                    new: Some((new, text)),
                });
            }
        }
    }
    flush(&mut rows, &mut removed, &mut added);
    if rows.len() > MAX_DIFF_ROWS {
        let left = rows.len() - MAX_DIFF_ROWS;
        rows.truncate(MAX_DIFF_ROWS);
        rows.push(DiffRow {
            kind: "same",
            old: Some((0, format!("… {left} more lines"))),
            new: None,
        });
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(rows: &[DiffRow]) -> Vec<String> {
        rows.iter()
            .map(|row| {
                let side = |side: &Option<(usize, String)>| {
                    side.as_ref().map_or("-".to_owned(), |(n, text)| format!("{n}:{text}"))
                };
                format!("{} {} | {}", row.kind, side(&row.old), side(&row.new))
            })
            .collect()
    }

    #[test]
    fn edits_pair_up_and_pure_additions_and_removals_stand_alone() {
        let old = "a\nb\nc\nd\n";
        let new = "a\nB\nc\nd\ne\n";
        assert_eq!(
            shape(&side_by_side(old, new)),
            [
                "same 1:a | 1:a",
                "changed 2:b | 2:B",
                "same 3:c | 3:c",
                "same 4:d | 4:d",
                "added - | 5:e"
            ]
        );
        assert_eq!(shape(&side_by_side("x\ny\n", "y\n")), ["removed 1:x | -", "same 2:y | 1:y"]);
        assert!(side_by_side("", "").is_empty());
    }

    #[test]
    fn a_last_line_without_newline_compares_like_one_with() {
        let rows = side_by_side("a\nb", "a\nb\nc");
        assert_eq!(shape(&rows), ["same 1:a | 1:a", "same 2:b | 2:b", "added - | 3:c"]);
    }
}
