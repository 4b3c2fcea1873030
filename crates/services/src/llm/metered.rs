//! A stream wrapper that notes usage and outcome as chunks pass, and reports once when the
//! stream ends, breaks, or is dropped because the client went away (status 499).

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use ql_router::{ChunkStream, RouterError, StreamChunk};

use super::CallOutcome;

/// The status recorded for a stream whose client left before the end.
pub const CLIENT_CLOSED: u16 = 499;

pub(crate) struct Metered<F: FnOnce(&CallOutcome) + Send> {
    inner: ChunkStream,
    outcome: CallOutcome,
    report: Option<F>,
}

impl<F: FnOnce(&CallOutcome) + Send> Metered<F> {
    pub(crate) fn new(inner: ChunkStream, outcome: CallOutcome, report: F) -> Self {
        Self { inner, outcome, report: Some(report) }
    }

    fn finish(&mut self, status: u16) {
        if let Some(report) = self.report.take() {
            self.outcome.status = status;
            report(&self.outcome);
        }
    }
}

// `Metered` holds no self-references: moving it is fine.
impl<F: FnOnce(&CallOutcome) + Send> Unpin for Metered<F> {}

impl<F: FnOnce(&CallOutcome) + Send> Stream for Metered<F> {
    type Item = Result<StreamChunk, RouterError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = self.inner.as_mut().poll_next(cx);
        match &polled {
            Poll::Ready(Some(Ok(chunk))) => {
                if let Some(usage) = chunk.usage {
                    self.outcome.usage = usage;
                }
            }
            Poll::Ready(Some(Err(error))) => {
                let status = error.status();
                self.finish(status);
            }
            Poll::Ready(None) => self.finish(200),
            Poll::Pending => {}
        }
        polled
    }
}

impl<F: FnOnce(&CallOutcome) + Send> Drop for Metered<F> {
    fn drop(&mut self) {
        self.finish(CLIENT_CLOSED);
    }
}
