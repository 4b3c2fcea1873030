//! Generations run end to end by a worker on SQLite (and on PostgreSQL when
//! `QL_TEST_POSTGRES_URL` is set): every step once, complete numbered event streams, one
//! verified capsule each; cancellation; a worker replaced after the database went away.

#![expect(clippy::expect_used, reason = "a test fails loudly at the first broken step")]

mod support;

use ql_orchestrator::{Orchestrator, Settings};
use ql_store::NewGeneration;
use support::{
    Backend, assert_complete_stream, owner, postgres, settings, sqlite, start_worker, wait_finished,
};

const LIBRARY: &str = "A library where members borrow books. Books have a title, an author, an ISBN and a published year. Members have a name and an email.";
const TODO: &str = "A todo app: todos have a title, optional notes, a due date and a done flag.";

fn skipping_tests(description: &str) -> NewGeneration {
    NewGeneration {
        description: description.to_owned(),
        stack: "python-fastapi".into(),
        model: "builtin".into(),
        run_tests: false,
        ..NewGeneration::default()
    }
}

async fn generations_run_to_one_verified_capsule_each(backend: Backend) {
    let store = backend.store.clone();
    let (actor, project) = owner(&store).await;
    let orchestrator = Orchestrator::new(store.clone(), settings());
    let mut ids = Vec::new();
    for description in [LIBRARY, TODO, LIBRARY] {
        let generation = orchestrator
            .submit(&actor, &project, skipping_tests(description))
            .await
            .expect("submit");
        assert_eq!(generation.status, "queued");
        ids.push(generation.id);
    }
    let worker = start_worker(&orchestrator);
    let finished = wait_finished(&store, &actor, &ids).await;
    for generation in &finished {
        assert_eq!(generation.status, "succeeded", "{generation:?}");
        assert!(generation.spec.is_some() && generation.report.is_some());
        let capsule = generation.capsule_id.clone().expect("capsule id");
        let (_, archive) = store.capsules.archive(&actor.org, &capsule).await.expect("archive");
        ql_capsule::verify(&archive, &ql_capsule::Limits::default()).expect("verifies");
        assert_complete_stream(&store, &actor, &generation.id, "succeeded").await;
        let steps = store.generations.steps(&actor.org, &generation.id).await.expect("steps");
        let roles: Vec<&str> = steps.iter().map(|step| step.role.as_str()).collect();
        assert_eq!(roles.first(), Some(&"planner"));
        assert_eq!(roles.last(), Some(&"packager"));
        assert!(roles.iter().filter(|role| **role == "coder").count() >= 2, "{roles:?}");
        assert!(steps.iter().all(|step| step.status == "succeeded" && step.attempts == 1));
        let events = store
            .generations
            .events_since(&actor.org, &generation.id, 0, 1000)
            .await
            .expect("events");
        let files = events.iter().filter(|event| event.kind == "file_written").count();
        assert!(files > 10, "{files} files");
    }
    let capsules = store.capsules.list(&actor.org, &project).await.expect("capsules");
    assert_eq!(capsules.len(), 3, "one capsule per generation");
    drop(worker);
    backend.finish().await;
}

async fn cancelled_generations_stop_and_say_who(backend: Backend) {
    let store = backend.store.clone();
    let (actor, project) = owner(&store).await;
    let orchestrator = Orchestrator::new(store.clone(), settings());
    let queued = orchestrator.submit(&actor, &project, skipping_tests(TODO)).await.expect("submit");
    let cancelled = orchestrator.cancel(&actor, &queued.id).await.expect("cancel");
    assert_eq!(cancelled.cancelled_by.as_ref(), Some(&actor.user));
    let worker = start_worker(&orchestrator);
    // A later one runs; the cancelled one never starts.
    let next = orchestrator.submit(&actor, &project, skipping_tests(TODO)).await.expect("submit");
    let finished = wait_finished(&store, &actor, std::slice::from_ref(&next.id)).await;
    assert_eq!(finished[0].status, "succeeded");
    let events =
        store.generations.events_since(&actor.org, &queued.id, 0, 100).await.expect("events");
    assert_eq!(
        events.iter().map(|event| event.kind.as_str()).collect::<Vec<_>>(),
        ["queued", "cancelled"]
    );
    assert!(store.generations.steps(&actor.org, &queued.id).await.expect("steps").is_empty());
    drop(worker);
    backend.finish().await;
}

/// apalis stops a worker at its first failed heartbeat or acknowledgement; the orchestrator
/// starts another, so generations submitted after the database comes back still run.
async fn a_worker_that_loses_the_database_is_replaced(backend: Backend) {
    let store = backend.store.clone();
    let (actor, project) = owner(&store).await;
    let settings = settings();
    let queue = settings.queue.clone();
    let orchestrator = Orchestrator::new(store.clone(), settings);
    let worker = start_worker(&orchestrator);
    let before = orchestrator.submit(&actor, &project, skipping_tests(TODO)).await.expect("submit");
    wait_finished(&store, &actor, std::slice::from_ref(&before.id)).await;
    assert_eq!(backend.workers_registered(&queue).await, 1);

    backend.cut_off(&queue, std::time::Duration::from_secs(7)).await;
    let after = orchestrator.submit(&actor, &project, skipping_tests(TODO)).await.expect("submit");
    let finished = wait_finished(&store, &actor, std::slice::from_ref(&after.id)).await;
    assert_eq!(finished[0].status, "succeeded", "{finished:?}");
    assert_complete_stream(&store, &actor, &after.id, "succeeded").await;
    // The first worker died of the outage and another took its place.
    assert!(backend.workers_registered(&queue).await >= 2);
    drop(worker);
    backend.finish().await;
}

/// A running generation whose workflow is not in the job queue (its tasks lost) is found by
/// its silence and queued again.
async fn a_generation_whose_workflow_was_lost_is_queued_again(backend: Backend) {
    let store = backend.store.clone();
    let (actor, project) = owner(&store).await;
    let settings = Settings { stall_after: std::time::Duration::from_secs(1), ..settings() };
    let orchestrator = Orchestrator::new(store.clone(), settings);
    let lost = orchestrator.submit(&actor, &project, skipping_tests(TODO)).await.expect("submit");
    // Admitted and recorded as queued, but nothing of its workflow reached the queue.
    let admitted = store.generations.admit_next(2).await.expect("admit").expect("admitted");
    assert_eq!(admitted.id, lost.id);
    store.generations.mark_dispatched(&actor.org, &lost.id).await.expect("dispatched");
    let worker = start_worker(&orchestrator);
    let finished = wait_finished(&store, &actor, std::slice::from_ref(&lost.id)).await;
    assert_eq!(finished[0].status, "succeeded", "{finished:?}");
    assert_complete_stream(&store, &actor, &lost.id, "succeeded").await;
    drop(worker);
    backend.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_backend_a_generation_whose_workflow_was_lost_is_queued_again() {
    a_generation_whose_workflow_was_lost_is_queued_again(sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_backend_a_generation_whose_workflow_was_lost_is_queued_again() {
    let Some(backend) = postgres().await else { return };
    a_generation_whose_workflow_was_lost_is_queued_again(backend).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_backend_a_worker_that_loses_the_database_is_replaced() {
    a_worker_that_loses_the_database_is_replaced(sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_backend_a_worker_that_loses_the_database_is_replaced() {
    let Some(backend) = postgres().await else { return };
    a_worker_that_loses_the_database_is_replaced(backend).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_backend_generations_run_to_one_verified_capsule_each() {
    generations_run_to_one_verified_capsule_each(sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_backend_cancelled_generations_stop_and_say_who() {
    cancelled_generations_stop_and_say_who(sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_backend_generations_run_to_one_verified_capsule_each() {
    let Some(backend) = postgres().await else { return };
    generations_run_to_one_verified_capsule_each(backend).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_backend_cancelled_generations_stop_and_say_who() {
    let Some(backend) = postgres().await else { return };
    cancelled_generations_stop_and_say_who(backend).await;
}

/// A refinement starts from the spec the earlier generation was built from: a field the
/// person added by editing the spec stays, and the instruction's field joins it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refinement_keeps_the_edits_made_to_the_spec() {
    const EXPENSES: &str = "Track expenses: each expense has an amount and a note.";
    let backend = sqlite().await;
    let store = backend.store.clone();
    let (actor, project) = owner(&store).await;
    let orchestrator = Orchestrator::new(store.clone(), settings());
    let mut edited = ql_engine::spec::extract(EXPENSES).expect("extracts").spec;
    let mut merchant = edited.entities[0].fields[0].clone();
    merchant.name = "merchant".into();
    edited.entities[0].fields.push(merchant);
    let parent = NewGeneration {
        spec: Some(serde_json::to_string(&edited).expect("json")),
        ..skipping_tests(EXPENSES)
    };
    let parent = orchestrator.submit(&actor, &project, parent).await.expect("submit");
    let worker = start_worker(&orchestrator);
    wait_finished(&store, &actor, std::slice::from_ref(&parent.id)).await;
    let instruction = "Expenses also have a category.";
    let child = NewGeneration {
        description: format!("{EXPENSES}\n\n{instruction}"),
        parent_id: Some(parent.id.clone()),
        instruction: Some(instruction.into()),
        ..skipping_tests(EXPENSES)
    };
    let child = orchestrator.submit(&actor, &project, child).await.expect("submit");
    let finished = wait_finished(&store, &actor, std::slice::from_ref(&child.id)).await;
    assert_eq!(finished[0].status, "succeeded", "{:?}", finished[0].error);
    let spec: ql_engine::spec::AppSpec =
        serde_json::from_str(finished[0].spec.as_deref().expect("spec")).expect("reads");
    let fields: Vec<&str> =
        spec.entities[0].fields.iter().map(|field| field.name.as_str()).collect();
    for wanted in ["amount", "note", "merchant", "category"] {
        assert!(fields.contains(&wanted), "{wanted} in {fields:?}");
    }
    drop(worker);
    backend.finish().await;
}
