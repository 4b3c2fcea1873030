//! A provider that answers from a script, for tests of routing, retries and streaming.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;

use crate::error::RouterError;
use crate::provider::{ChunkStream, Completion, Provider};
use crate::providers::translate::{self, role_delta, text_delta};
use crate::wire::{ChatRequest, Delta, Usage};

/// The id of every scripted answer.
const ID: &str = "chatcmpl-scripted";

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Step {
    /// Answer with this text (streamed word by word when streaming).
    Reply(String),
    /// Fail with this error before answering.
    Fail(RouterError),
    /// Stream these pieces, then break with an error instead of finishing.
    BreakAfter(Vec<String>),
    /// Wait, then take the inner step.
    Delay(Duration, Box<Step>),
}

/// A step with its delays waited out.
enum Outcome {
    Reply(String),
    Fail(RouterError),
    BreakAfter(Vec<String>),
}

/// Answers each call with the next step; the last step repeats once the script runs out.
#[derive(Debug)]
pub struct Scripted {
    name: String,
    steps: Mutex<VecDeque<Step>>,
    calls: AtomicUsize,
    /// Every request received, in order.
    requests: Mutex<Vec<ChatRequest>>,
}

impl Scripted {
    pub fn new(name: impl Into<String>, steps: impl IntoIterator<Item = Step>) -> Self {
        Self {
            name: name.into(),
            steps: Mutex::new(steps.into_iter().collect()),
            calls: AtomicUsize::new(0),
            requests: Mutex::new(Vec::new()),
        }
    }

    /// The requests received so far, in order.
    pub fn requests(&self) -> Vec<ChatRequest> {
        self.requests.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    fn remember(&self, request: &ChatRequest) {
        self.requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(request.clone());
    }

    /// How many chat calls reached this provider.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn next_step(&self) -> Step {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let mut steps = self.steps.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if steps.len() > 1 {
            steps.pop_front().unwrap_or_else(|| Step::Reply(String::new()))
        } else {
            steps.front().cloned().unwrap_or_else(|| Step::Reply(String::new()))
        }
    }

    async fn resolve(&self) -> Outcome {
        let mut step = self.next_step();
        loop {
            return match step {
                Step::Delay(wait, inner) => {
                    tokio::time::sleep(wait).await;
                    step = *inner;
                    continue;
                }
                Step::Reply(text) => Outcome::Reply(text),
                Step::Fail(error) => Outcome::Fail(error),
                Step::BreakAfter(pieces) => Outcome::BreakAfter(pieces),
            };
        }
    }
}

fn words(text: &str) -> Vec<String> {
    text.split_inclusive(' ').map(str::to_owned).collect()
}

fn usage_of(request: &ChatRequest, answer: &str) -> Usage {
    let prompt: usize =
        request.messages.iter().map(|m| m.text_content().split_whitespace().count()).sum();
    Usage::new(prompt as u64, answer.split_whitespace().count() as u64)
}

#[async_trait::async_trait]
impl Provider for Scripted {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> &'static str {
        "scripted"
    }

    async fn complete(
        &self,
        request: &ChatRequest,
        model: &str,
    ) -> Result<Completion, RouterError> {
        self.remember(request);
        let text = match self.resolve().await {
            Outcome::Reply(text) => text,
            Outcome::Fail(error) => return Err(error),
            Outcome::BreakAfter(_) => {
                return Err(RouterError::Protocol {
                    provider: self.name.clone(),
                    message: "cut off".into(),
                });
            }
        };
        let usage = usage_of(request, &text);
        let response =
            translate::response(ID.into(), model.to_owned(), text, Vec::new(), "stop", usage);
        Ok(Completion {
            body: Bytes::from(serde_json::to_vec(&response).unwrap_or_default()),
            usage,
        })
    }

    async fn stream(&self, request: &ChatRequest, model: &str) -> Result<ChunkStream, RouterError> {
        self.remember(request);
        let (pieces, broken) = match self.resolve().await {
            Outcome::Reply(text) => (words(&text), false),
            Outcome::Fail(error) => return Err(error),
            Outcome::BreakAfter(pieces) => (pieces, true),
        };
        let chunk = |delta: Delta, finish: Option<&str>, usage: Option<Usage>| {
            translate::chunk(ID, model, delta, finish.map(str::to_owned), usage)
        };
        let mut items = vec![Ok(chunk(role_delta(), None, None))];
        for piece in &pieces {
            items.push(Ok(chunk(text_delta(piece.clone()), None, None)));
        }
        if broken {
            items.push(Err(RouterError::StreamBroken {
                provider: self.name.clone(),
                message: "scripted break".into(),
            }));
        } else {
            items.push(Ok(chunk(Delta::default(), Some("stop"), None)));
            let usage = usage_of(request, &pieces.concat());
            items.push(Ok(chunk(Delta::default(), None, Some(usage))));
        }
        Ok(Box::pin(futures::stream::iter(items)))
    }

    async fn models(&self) -> Result<Vec<String>, RouterError> {
        Ok(vec!["scripted".into()])
    }

    async fn health(&self) -> Result<(), RouterError> {
        match self.steps.lock().unwrap_or_else(std::sync::PoisonError::into_inner).front() {
            Some(Step::Fail(error)) => Err(error.clone()),
            _ => Ok(()),
        }
    }
}
