//! A model's answer as it arrives: the text of each stream chunk, and a reader that follows
//! the fenced, path-tagged file blocks in that text line by line, so a file's contents can be
//! shown while the model is still writing it.

use std::pin::Pin;

use futures::{Stream, StreamExt};
use ql_router::wire::Usage;
use ql_router::{RouterError, StartedStream};

use super::{MAX_FILE_BYTES, check_path};

/// A piece of an answer's text, and the call's usage when this chunk carries it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TextPiece {
    pub text: String,
    pub usage: Option<Usage>,
}

/// An answer's text, piece by piece; it ends after the last piece, or with an error.
pub type TextStream = Pin<Box<dyn Stream<Item = Result<TextPiece, RouterError>> + Send>>;

/// The text and usage of one OpenAI `chat.completion.chunk`.
fn piece_of(data: &[u8], usage: Option<Usage>, provider: &str) -> Result<TextPiece, RouterError> {
    let chunk: serde_json::Value =
        serde_json::from_slice(data).map_err(|error| RouterError::Protocol {
            provider: provider.to_owned(),
            message: format!("a stream chunk is not JSON: {error}"),
        })?;
    let text = chunk["choices"][0]["delta"]["content"].as_str().unwrap_or_default().to_owned();
    Ok(TextPiece { text, usage })
}

/// The text of a started gateway stream.
pub fn text_stream(started: StartedStream) -> TextStream {
    let provider = started.served.provider.clone();
    let first = started.first.map(Ok);
    let chunks = futures::stream::iter(first).chain(started.rest);
    Box::pin(chunks.map(move |chunk| {
        let chunk = chunk?;
        piece_of(&chunk.data, chunk.usage, &provider)
    }))
}

/// What the reader saw in the lines it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileEvent {
    /// A block for `path` opened.
    Opened { path: String },
    /// More lines of the open block's file (each ends in `\n`).
    Text { path: String, text: String },
    /// The block closed; `contents` is the whole file.
    Closed { path: String, contents: String },
}

/// Follows the file blocks of an answer as its text arrives. It reads whole lines: a piece
/// that ends mid-line keeps that line until the rest comes. What it refuses (a path outside
/// the project, a file over the size limit) ends the reading with the reason; the whole
/// answer is parsed again at the end in any case.
#[derive(Debug, Default)]
pub struct FileBlockReader {
    partial: String,
    open: Option<OpenBlock>,
}

#[derive(Debug)]
struct OpenBlock {
    /// The path, or `None` for a block without one (skipped).
    path: Option<String>,
    fence: usize,
    contents: String,
}

impl FileBlockReader {
    /// Reads `text`; answers what its complete lines showed.
    pub fn push(&mut self, text: &str) -> Result<Vec<FileEvent>, String> {
        self.partial.push_str(text);
        let mut events = Vec::new();
        while let Some(end) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=end).collect();
            self.line(line.trim_end_matches(['\n', '\r']), &mut events)?;
        }
        Ok(merge_text(events))
    }

    /// Reads what is left after the answer's last piece.
    pub fn finish(&mut self) -> Result<Vec<FileEvent>, String> {
        let rest = std::mem::take(&mut self.partial);
        let mut events = Vec::new();
        if !rest.is_empty() {
            self.line(&rest, &mut events)?;
        }
        Ok(merge_text(events))
    }

    fn line(&mut self, line: &str, events: &mut Vec<FileEvent>) -> Result<(), String> {
        let Some(mut block) = self.open.take() else {
            return self.opening(line, events);
        };
        let inner = line.trim();
        if inner.len() >= block.fence && inner.chars().all(|c| c == '`') {
            if let Some(path) = block.path {
                events.push(FileEvent::Closed { path, contents: block.contents });
            }
            return Ok(());
        }
        if let Some(path) = &block.path {
            block.contents.push_str(line);
            block.contents.push('\n');
            if block.contents.len() > MAX_FILE_BYTES {
                return Err(format!("`{path}` is over {MAX_FILE_BYTES} bytes."));
            }
            events.push(FileEvent::Text { path: path.clone(), text: format!("{line}\n") });
        }
        self.open = Some(block);
        Ok(())
    }

    /// A line outside any block: a fence opens one (with a path, a file).
    fn opening(&mut self, line: &str, events: &mut Vec<FileEvent>) -> Result<(), String> {
        let trimmed = line.trim_start();
        let fence = trimmed.chars().take_while(|c| *c == '`').count();
        if fence < 3 {
            return Ok(());
        }
        let path = trimmed[fence..]
            .split_whitespace()
            .find_map(|part| part.strip_prefix("path="))
            .map(|path| path.trim_matches(|c| c == '"' || c == '\'').to_owned());
        if let Some(path) = &path {
            check_path(path)?;
            events.push(FileEvent::Opened { path: path.clone() });
        }
        self.open = Some(OpenBlock { path, fence, contents: String::new() });
        Ok(())
    }
}

/// Joins neighbouring `Text` events of one file.
fn merge_text(events: Vec<FileEvent>) -> Vec<FileEvent> {
    let mut merged: Vec<FileEvent> = Vec::with_capacity(events.len());
    for event in events {
        if let (
            Some(FileEvent::Text { path: last_path, text: last }),
            FileEvent::Text { path, text },
        ) = (merged.last_mut(), &event)
            && last_path == path
        {
            last.push_str(text);
            continue;
        }
        merged.push(event);
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `answer` in pieces of `size` bytes (on character boundaries) and collects the
    /// files: their opened order, and the text streamed for each.
    fn read_in_pieces(answer: &str, size: usize) -> (Vec<String>, Vec<(String, String)>) {
        let mut reader = FileBlockReader::default();
        let (mut opened, mut streamed, mut closed) =
            (Vec::new(), Vec::<(String, String)>::new(), Vec::new());
        let chars: Vec<char> = answer.chars().collect();
        let mut events = Vec::new();
        for piece in chars.chunks(size) {
            events.extend(reader.push(&piece.iter().collect::<String>()).expect("reads"));
        }
        events.extend(reader.finish().expect("finishes"));
        for event in events {
            match event {
                FileEvent::Opened { path } => opened.push(path),
                FileEvent::Text { path, text } => {
                    match streamed.iter_mut().find(|(p, _)| *p == path) {
                        Some((_, all)) => all.push_str(&text),
                        None => streamed.push((path, text)),
                    }
                }
                FileEvent::Closed { path, contents } => {
                    let streamed_text = streamed
                        .iter()
                        .find(|(p, _)| *p == path)
                        .map(|(_, t)| t.clone())
                        .unwrap_or_default();
                    assert_eq!(streamed_text, contents, "what streamed is the file");
                    closed.push((path, contents));
                }
            }
        }
        (opened, closed)
    }

    const ANSWER: &str = "Here are the files.\n\
        ```python path=app/main.py\nimport os\nprint(os.name)\n```\n\
        Some prose.\n```\nno path: skipped\n```\n\
        ````markdown path=README.md\n# Title\n```sh\nrun\n```\n````\n";

    #[test]
    fn files_read_alike_in_any_piece_size() {
        for size in [1, 2, 3, 7, 64, 10_000] {
            let (opened, closed) = read_in_pieces(ANSWER, size);
            assert_eq!(opened, ["app/main.py", "README.md"], "piece size {size}");
            assert_eq!(
                closed,
                [
                    ("app/main.py".to_owned(), "import os\nprint(os.name)\n".to_owned()),
                    ("README.md".to_owned(), "# Title\n```sh\nrun\n```\n".to_owned()),
                ],
                "piece size {size}"
            );
            let parsed = super::super::parse_files(ANSWER).expect("parses");
            let closed: std::collections::BTreeMap<_, _> = closed.into_iter().collect();
            assert_eq!(parsed, closed, "agrees with parse_files");
        }
    }

    #[test]
    fn a_path_outside_the_project_stops_the_reading() {
        let mut reader = FileBlockReader::default();
        let refused = reader.push("```python path=../etc/passwd\n").expect_err("refused");
        assert!(refused.contains("outside the project"), "{refused}");
    }

    #[test]
    fn an_oversized_file_stops_the_reading() {
        let mut reader = FileBlockReader::default();
        reader.push("```text path=big.txt\n").expect("opens");
        let line = "x".repeat(1024) + "\n";
        let refused = (0..=MAX_FILE_BYTES / 1024)
            .find_map(|_| reader.push(&line).err())
            .expect("refused at the limit");
        assert!(refused.contains("over"), "{refused}");
    }

    #[test]
    fn chunk_text_and_usage_are_read() {
        let data = br#"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"he"}}]}"#;
        let piece = piece_of(data, None, "p").expect("reads");
        assert_eq!(piece.text, "he");
        let usage_only = br#"{"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}"#;
        let piece = piece_of(usage_only, Some(Usage::new(1, 2)), "p").expect("reads");
        assert_eq!(piece, TextPiece { text: String::new(), usage: Some(Usage::new(1, 2)) });
        assert!(piece_of(b"not json", None, "p").is_err());
    }
}
