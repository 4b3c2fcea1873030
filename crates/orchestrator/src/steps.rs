//! Running one step of a generation, whatever its agent: a step that succeeded before is not
//! run again (its stored output is used); otherwise it is recorded as started, run while the
//! generation is watched for cancellation, retried with backoff when it fails for a reason
//! that may pass, and recorded as finished or failed — a failed step fails the generation.

use std::future::Future;
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;

use ql_store::{GenerationId, GenerationOutcome, NewStep, OrgId, StepStart, StoreError};

use ql_engine::model_generation::Budget;

use crate::events::kind;
use crate::worker::Context;

/// Which generation a workflow task is about: all a task carries; the rest is in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub org: String,
    pub generation: String,
}

impl Ticket {
    pub(crate) fn org(&self) -> OrgId {
        OrgId(self.org.clone())
    }

    pub(crate) fn id(&self) -> GenerationId {
        GenerationId(self.generation.clone())
    }
}

/// The roles of the agents, in the order they act.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Planner,
    Architect,
    Coder,
    Reviewer,
    Tester,
    Packager,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Self::Planner => "planner",
            Self::Architect => "architect",
            Self::Coder => "coder",
            Self::Reviewer => "reviewer",
            Self::Tester => "tester",
            Self::Packager => "packager",
        }
    }

    fn position(self) -> i64 {
        self as i64 + 1
    }

    /// The step's key: the role, or for a coder the role and its module.
    pub(crate) fn step(self, part: Option<&str>) -> String {
        match part {
            Some(part) => format!("{}:{part}", self.name()),
            None => self.name().to_owned(),
        }
    }
}

/// Why an agent did not finish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// May pass if tried again (a provider outage, a busy database): retried with backoff.
    Transient(String),
    /// Will fail the same way again (a spec that cannot be built, failing tests): not retried.
    Deterministic(String),
}

impl Failure {
    fn message(&self) -> &str {
        match self {
            Self::Transient(message) | Self::Deterministic(message) => message,
        }
    }
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        Self::Transient(error.to_string())
    }
}

/// An error that hands the task back to the job queue, which runs it again.
pub(crate) type QueueError = apalis::prelude::BoxDynError;

/// How often a running step looks for its generation's cancellation.
const CANCEL_POLL: Duration = Duration::from_millis(250);

/// Runs `body` as the step `role`/`part` of the ticket's generation. `Ok(None)`: the
/// generation is over (cancelled, failed, gone) and the workflow should stop.
pub(crate) async fn run<O, F, Fut>(
    context: &Context,
    ticket: &Ticket,
    (role, part): (Role, Option<&str>),
    input: serde_json::Value,
    body: F,
) -> Result<Option<O>, QueueError>
where
    O: Serialize + DeserializeOwned,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<O, Failure>>,
{
    let (org, id) = (ticket.org(), ticket.id());
    let generations = &context.store.generations;
    let on_model = match generations.get(&org, &id).await {
        Ok(generation) if generation.status == "running" => {
            crate::models::model_of(&generation) != crate::models::BUILTIN
        }
        Ok(_) | Err(StoreError::NotFound(_)) => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    let step = role.step(part);
    let new = NewStep {
        step: step.clone(),
        role: role.name().to_owned(),
        position: role.position(),
        input: input.to_string(),
        worker: context.worker.clone(),
    };
    // The start event is stored with the attempt, the end event with the outcome: a worker
    // killed in between leaves a step that runs again, never a half-told story.
    let attempt = match generations.begin_step(&org, &id, &new, kind::STEP_STARTED).await? {
        StepStart::Done { output } => return Ok(Some(serde_json::from_str(&output)?)),
        StepStart::Run { attempt } => attempt,
        StepStart::Ended => return Ok(None),
    };
    context.publisher.announce(&id);
    let started = Instant::now();
    let limit = time_limit(role, &context.settings, on_model);
    let mut body = body;
    // A step that hangs (a lost connection, a stuck child) fails its attempt, and may retry.
    let bounded = || {
        let attempt = body();
        async move {
            tokio::time::timeout(limit, attempt).await.unwrap_or_else(|_| {
                Err(Failure::Transient(format!("the step ran longer than {} s", limit.as_secs())))
            })
        }
    };
    let retried = bounded
        .retry(
            ExponentialBuilder::default()
                .with_min_delay(Duration::from_millis(500))
                .with_max_delay(Duration::from_secs(8))
                .with_max_times(context.settings.transient_retries)
                .with_jitter(),
        )
        .when(|failure| matches!(failure, Failure::Transient(_)));
    let outcome = tokio::select! {
        outcome = retried => outcome,
        () = cancelled(context, &org, &id) => {
            let data = json!({"step": step, "role": role.name(), "attempt": attempt,
                              "error": "cancelled"}).to_string();
            generations
                .finish_step(&org, &id, &step, attempt, Err("cancelled"), (kind::STEP_FAILED, &data))
                .await?;
            context.publisher.announce(&id);
            return Ok(None);
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    match outcome {
        Ok(output) => {
            let json = serde_json::to_string(&output)?;
            let data = json!({"step": step, "role": role.name(), "attempt": attempt,
                              "seconds": seconds})
            .to_string();
            let recorded = generations
                .finish_step(&org, &id, &step, attempt, Ok(&json), (kind::STEP_FINISHED, &data))
                .await?;
            context.publisher.announce(&id);
            // Taken over meanwhile (this worker was presumed dead): the other attempt goes on.
            Ok(recorded.then_some(output))
        }
        Err(failure) => {
            let message = failure.message().to_owned();
            let data = json!({"step": step, "role": role.name(), "attempt": attempt,
                              "seconds": seconds, "error": message})
            .to_string();
            let recorded = generations
                .finish_step(&org, &id, &step, attempt, Err(&message), (kind::STEP_FAILED, &data))
                .await?;
            if !recorded {
                return Ok(None);
            }
            context.publisher.announce(&id);
            let outcome = GenerationOutcome::Failed { error: format!("{step}: {message}") };
            let last = json!({"step": step, "error": message}).to_string();
            if generations.finish(&org, &id, &outcome, &last).await?.is_some() {
                context.publisher.announce(&id);
            }
            Ok(None)
        }
    }
}

/// The longest one attempt of a step may run: the tester's test run plus time to install its
/// dependencies the first time (and, on a model, its repair rounds); a planner or coder that
/// waits on a model its own limit; a minute for the rest, which render and check text.
fn time_limit(role: Role, settings: &crate::Settings, on_model: bool) -> Duration {
    let install = Duration::from_secs(1_800);
    match (role, on_model) {
        (Role::Tester, false) => settings.test_timeout + install,
        (Role::Tester, true) => {
            let rounds = Budget::default().max_rounds + 1;
            (settings.test_timeout + settings.model_step_timeout) * rounds + install
        }
        (Role::Planner | Role::Coder, true) => settings.model_step_timeout,
        _ => Duration::from_secs(60),
    }
}

/// Resolves once the generation is cancelled (or gone).
async fn cancelled(context: &Context, org: &OrgId, id: &GenerationId) {
    loop {
        tokio::time::sleep(CANCEL_POLL).await;
        match context.store.generations.get(org, id).await {
            Ok(generation) if generation.status == "cancelled" => return,
            Err(StoreError::NotFound(_)) => return,
            _ => {}
        }
    }
}

/// The stored output of a step that succeeded, for the steps after it.
pub(crate) async fn output_of<O: DeserializeOwned>(
    context: &Context,
    ticket: &Ticket,
    step: &str,
) -> Result<O, Failure> {
    let steps = context.store.generations.steps(&ticket.org(), &ticket.id()).await?;
    let output = steps
        .into_iter()
        .find(|stored| stored.step == step && stored.status == "succeeded")
        .and_then(|stored| stored.output)
        .ok_or_else(|| Failure::Transient(format!("the output of {step} is not stored yet")))?;
    serde_json::from_str(&output).map_err(|error| {
        Failure::Deterministic(format!("the output of {step} is unreadable: {error}"))
    })
}
