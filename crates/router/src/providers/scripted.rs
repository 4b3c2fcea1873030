//! A provider that answers from a script, for tests of routing, retries and streaming.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;

use crate::error::RouterError;
use crate::http::unix_now;
use crate::provider::{ChunkStream, Completion, Provider, StreamChunk};
use crate::wire::{
    AssistantMessage, ChatChunk, ChatRequest, ChatResponse, Choice, ChunkChoice, Delta, Role, Usage,
};

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
}

impl Scripted {
    pub fn new(name: impl Into<String>, steps: impl IntoIterator<Item = Step>) -> Self {
        Self {
            name: name.into(),
            steps: Mutex::new(steps.into_iter().collect()),
            calls: AtomicUsize::new(0),
        }
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

    fn chunk(
        &self,
        model: &str,
        delta: Delta,
        finish: Option<&str>,
        usage: Option<Usage>,
    ) -> StreamChunk {
        let choices = if usage.is_some() {
            Vec::new()
        } else {
            vec![ChunkChoice { index: 0, delta, finish_reason: finish.map(str::to_owned) }]
        };
        let chunk = ChatChunk {
            id: "chatcmpl-scripted".into(),
            object: "chat.completion.chunk".into(),
            created: unix_now(),
            model: model.to_owned(),
            choices,
            usage,
        };
        let data = Bytes::from(serde_json::to_vec(&chunk).unwrap_or_default());
        StreamChunk { data, usage, usage_only: usage.is_some() }
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
        let response = ChatResponse {
            id: "chatcmpl-scripted".into(),
            object: "chat.completion".into(),
            created: unix_now(),
            model: model.to_owned(),
            choices: vec![Choice {
                index: 0,
                message: AssistantMessage {
                    role: Role::Assistant,
                    content: Some(text),
                    tool_calls: None,
                },
                finish_reason: Some("stop".into()),
            }],
            usage: Some(usage),
        };
        Ok(Completion {
            body: Bytes::from(serde_json::to_vec(&response).unwrap_or_default()),
            usage,
        })
    }

    async fn stream(&self, request: &ChatRequest, model: &str) -> Result<ChunkStream, RouterError> {
        let (pieces, broken) = match self.resolve().await {
            Outcome::Reply(text) => (words(&text), false),
            Outcome::Fail(error) => return Err(error),
            Outcome::BreakAfter(pieces) => (pieces, true),
        };
        let mut items = vec![Ok(self.chunk(
            model,
            Delta { role: Some(Role::Assistant), content: Some(String::new()), tool_calls: None },
            None,
            None,
        ))];
        for piece in &pieces {
            let delta = Delta { content: Some(piece.clone()), ..Delta::default() };
            items.push(Ok(self.chunk(model, delta, None, None)));
        }
        if broken {
            items.push(Err(RouterError::StreamBroken {
                provider: self.name.clone(),
                message: "scripted break".into(),
            }));
        } else {
            items.push(Ok(self.chunk(model, Delta::default(), Some("stop"), None)));
            let usage = usage_of(request, &pieces.concat());
            items.push(Ok(self.chunk(model, Delta::default(), None, Some(usage))));
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
