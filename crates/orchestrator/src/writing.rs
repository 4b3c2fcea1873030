//! A model writing files: its answer streamed into `file_delta` events as its lines arrive
//! (each file's new text at most every [`DELTA_INTERVAL`], sooner past [`DELTA_BYTES`]), a
//! `file_written` event for each finished file, and the whole answer parsed once it ends.
//!
//! A `file_delta` carries the file's text from `offset` (bytes already sent for this answer);
//! a model asked again after a failure (a broken stream, a retried step) starts each file at
//! offset 0 again.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::json;
use sha2::{Digest, Sha256};

use ql_engine::model_generation::{ChatModel, FileBlockReader, FileEvent, parse_files};
use ql_engine::templates::GeneratedFile;
use ql_router::wire::{ChatRequest, Message, Usage};

use crate::agents::publish;
use crate::events::kind;
use crate::models::{ModelUse, model_failure};
use crate::steps::{Failure, Ticket};
use crate::worker::Context;

/// How often a file's new text is published while the model writes it.
pub(crate) const DELTA_INTERVAL: Duration = Duration::from_millis(100);
/// Text that is published at once, without waiting for the interval.
pub(crate) const DELTA_BYTES: usize = 4 * 1024;
/// The longest answer read; a model that goes on is cut off.
pub(crate) const MAX_ANSWER_BYTES: usize = 8 * 1024 * 1024;

/// What a model wrote in one answer.
#[derive(Debug, Default)]
pub(crate) struct Written {
    pub(crate) files: Vec<GeneratedFile>,
    pub(crate) model: ModelUse,
}

/// A file's text not yet published.
#[derive(Debug, Default)]
struct Pending {
    sent: usize,
    text: String,
}

/// Publishes the files of one answer as the model writes them; `part` names who writes them
/// (a coder's module, or `repair`).
struct FilePublisher<'a> {
    context: &'a Context,
    ticket: &'a Ticket,
    part: &'a str,
    pending: BTreeMap<String, Pending>,
    last_flush: Instant,
}

impl FilePublisher<'_> {
    async fn take(&mut self, events: Vec<FileEvent>) -> Result<(), Failure> {
        for event in events {
            match event {
                FileEvent::Opened { path } => {
                    self.pending.insert(path, Pending::default());
                }
                FileEvent::Text { path, text } => {
                    self.pending.entry(path).or_default().text.push_str(&text);
                }
                FileEvent::Closed { path, contents } => {
                    self.flush_file(&path).await?;
                    publish(
                        self.context,
                        self.ticket,
                        kind::FILE_WRITTEN,
                        json!({"module": self.part, "path": path, "bytes": contents.len(),
                               "contents": contents}),
                    )
                    .await?;
                }
            }
        }
        let buffered: usize = self.pending.values().map(|pending| pending.text.len()).sum();
        if buffered >= DELTA_BYTES || self.last_flush.elapsed() >= DELTA_INTERVAL {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush_file(&mut self, path: &str) -> Result<(), Failure> {
        let Some(pending) = self.pending.get_mut(path) else { return Ok(()) };
        if pending.text.is_empty() {
            return Ok(());
        }
        let text = std::mem::take(&mut pending.text);
        let offset = pending.sent;
        pending.sent += text.len();
        publish(
            self.context,
            self.ticket,
            kind::FILE_DELTA,
            json!({"module": self.part, "path": path, "offset": offset, "text": text}),
        )
        .await
    }

    async fn flush(&mut self) -> Result<(), Failure> {
        let paths: Vec<String> = self.pending.keys().cloned().collect();
        for path in paths {
            self.flush_file(&path).await?;
        }
        self.last_flush = Instant::now();
        Ok(())
    }
}

/// Sends `request` to `model` as a stream and publishes the files of its answer as they are
/// written; answers every file of the answer (checked: paths inside the project, sizes).
pub(crate) async fn write_files(
    context: &Context,
    ticket: &Ticket,
    model: &dyn ChatModel,
    request: &ChatRequest,
    part: &str,
) -> Result<Written, Failure> {
    let prompt = request.messages.last().map(Message::text_content).unwrap_or_default();
    let prompt_hash = hex::encode(Sha256::digest(prompt.as_bytes()));
    let mut stream = model.chat_stream(request).await.map_err(|error| model_failure(&error))?;
    let mut publisher = FilePublisher {
        context,
        ticket,
        part,
        pending: BTreeMap::new(),
        last_flush: Instant::now(),
    };
    let mut reader = FileBlockReader::default();
    let mut answer = String::new();
    let mut usage = Usage::default();
    while let Some(piece) = stream.next().await {
        let piece = piece.map_err(|error| model_failure(&error))?;
        if let Some(counted) = piece.usage {
            usage = counted;
        }
        answer.push_str(&piece.text);
        if answer.len() > MAX_ANSWER_BYTES {
            return Err(Failure::Deterministic(format!(
                "the model's answer went past {MAX_ANSWER_BYTES} bytes"
            )));
        }
        let events = reader.push(&piece.text).map_err(refused)?;
        publisher.take(events).await?;
    }
    let events = reader.finish().map_err(refused)?;
    publisher.take(events).await?;
    publisher.flush().await?;
    let files = parse_files(&answer)
        .map_err(refused)?
        .into_iter()
        .map(|(path, contents)| GeneratedFile { path, contents })
        .collect();
    Ok(Written { files, model: ModelUse { usage, prompt_hashes: vec![prompt_hash] } })
}

fn refused(reason: String) -> Failure {
    Failure::Deterministic(format!("the model's answer is refused: {reason}"))
}
