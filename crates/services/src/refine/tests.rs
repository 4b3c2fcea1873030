use ql_store::GenerationOutcome;

use super::*;
use crate::CapsuleInput;
use crate::testing::services;

fn by_path(files: Vec<crate::WorkspaceFile>) -> BTreeMap<String, String> {
    files.into_iter().map(|file| (file.path, file.content)).collect()
}

fn files(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(path, text)| ((*path).to_owned(), (*text).to_owned())).collect()
}

#[test]
fn edits_are_merged_into_the_refinement_unless_they_touch_the_same_lines() {
    let generated = "a\nb\nc\nd\ne\n";
    let refined = "a\nb\nc\nd\ne\nf\n";
    assert_eq!(merge_edits(generated, generated, refined), (refined.to_owned(), None));
    assert_eq!(
        merge_edits(generated, "A\nb\nc\nd\ne\n", refined),
        ("A\nb\nc\nd\ne\nf\n".to_owned(), Some(true))
    );
    assert_eq!(
        merge_edits(generated, "a\nb\nc\nd\ne\nmine\n", refined),
        (refined.to_owned(), Some(false))
    );
}

#[test]
fn changes_list_added_modified_and_removed_files_only() {
    let parent_generated = files(&[("same", "1\n"), ("changed", "x\n"), ("gone", "g\n")]);
    let parent_current = files(&[("same", "1\n"), ("changed", "x\n"), ("gone", "g edited\n")]);
    let refined = files(&[("same", "1\n"), ("changed", "y\n"), ("new", "n\n")]);
    let listed: Vec<_> = changes(&parent_generated, &parent_current, &refined)
        .into_iter()
        .map(|file| (file.path, file.change, file.before, file.proposed))
        .collect();
    assert_eq!(
        listed,
        vec![
            ("changed".into(), Change::Modified, Some("x\n".into()), Some("y\n".into())),
            ("gone".into(), Change::Removed, Some("g edited\n".into()), None),
            ("new".into(), Change::Added, None, Some("n\n".into())),
        ]
    );
}

/// Finishes a queued generation with a capsule the built-in engine makes from its description.
async fn finish_with_capsule(services: &Services, owner: &Principal, generation: &Generation) {
    let input = CapsuleInput {
        description: generation.description.clone(),
        stack: generation.stack.clone(),
        validate: false,
    };
    let capsule =
        services.generate_capsule(owner, &generation.project_id, &input).await.expect("capsule");
    let store = &services.store.generations;
    let admitted = store.admit_next(4).await.expect("admit").expect("admitted");
    assert_eq!(admitted.id, generation.id);
    let outcome = GenerationOutcome::Succeeded { capsule: capsule.id, report: "{}".into() };
    store.finish(&owner.org_id, &generation.id, &outcome, "{}").await.expect("finish");
}

#[tokio::test]
async fn a_refinement_keeps_edits_and_is_accepted_or_rejected_file_by_file() {
    let (services, _dir) = services().await;
    let services = services.with_capsule_key(ql_capsule::InstallationKey::generate());
    let owner = services.sign_in_local().await.expect("sign in");
    let project = services.create_project(&owner, "Refined", "").await.expect("project");
    let input = crate::GenerationInput {
        description: "Track expenses: each expense has an amount and a note.".into(),
        stack: "python-fastapi".into(),
        model: "builtin".into(),
        project_id: Some(project.id.0.clone()),
        run_tests: false,
        spec: None,
    };
    let parent = services.submit_generation(&owner, input).await.expect("submit");
    // Only a succeeded generation can be refined.
    match services.refine_generation(&owner, &parent.id.0, "Expenses also have a category.").await {
        Err(ServiceError::Conflict(error)) => assert_eq!(error.field, "generation"),
        other => panic!("a queued parent: {other:?}"),
    }
    finish_with_capsule(&services, &owner, &parent).await;

    // The person edits a file the refinement will also change, away from its lines.
    let model_path = "app/models.py";
    let generated = services.workspace_files(&owner, &parent.id.0).await.expect("files");
    let models = generated.iter().find(|file| file.path == model_path).expect("models.py");
    let edited = format!("# Reviewed by the team.\n{}", models.content);
    services.save_file(&owner, &parent.id.0, model_path, edited, Some(1)).await.expect("save");

    for (instruction, field) in [("   ", "instruction"), (&*"x".repeat(2_001), "instruction")] {
        match services.refine_generation(&owner, &parent.id.0, instruction).await {
            Err(ServiceError::Invalid(error)) => assert_eq!(error.field, field),
            other => panic!("{instruction:.10}: {other:?}"),
        }
    }
    let viewer = Principal { role: ql_common::Role::Viewer, ..owner.clone() };
    assert!(matches!(
        services.refine_generation(&viewer, &parent.id.0, "Expenses also have a category.").await,
        Err(ServiceError::Forbidden(_))
    ));
    let child = services
        .refine_generation(&owner, &parent.id.0, "Expenses also have a category.")
        .await
        .expect("refine");
    assert_eq!(child.parent_id.as_ref(), Some(&parent.id));
    assert_eq!(child.instruction.as_deref(), Some("Expenses also have a category."));
    assert_eq!((&child.project_id, &child.stack), (&parent.project_id, &parent.stack));
    assert!(child.description.ends_with("\n\nExpenses also have a category."));
    finish_with_capsule(&services, &owner, &child).await;

    let refinement = services.refinement(&owner, &child.id.0).await.expect("refinement");
    assert_eq!(refinement.parent_id, parent.id.0);
    let models = refinement.files.iter().find(|file| file.path == model_path).expect("changed");
    assert_eq!(models.change, Change::Modified);
    let proposed = models.proposed.as_deref().expect("proposed");
    assert!(proposed.starts_with("# Reviewed by the team.\n"), "the edit is kept");
    assert!(proposed.contains("category"), "the refinement is there");
    assert!(models.edits_merged && !models.edits_conflict);
    assert!(refinement.files.iter().all(|file| file.decision.is_none()));

    // Accept the models, reject another changed file: the rejected one gets the parent's text.
    let (accepted, version) = services
        .decide_refined_file(&owner, &child.id.0, model_path, Decision::Accepted)
        .await
        .expect("accept");
    assert_eq!(accepted.decision, Some(Decision::Accepted));
    let version = version.expect("a new version");
    assert_eq!((version.version, version.note.as_str()), (2, "accepted the refinement"));
    let other = refinement
        .files
        .iter()
        .find(|file| file.change == Change::Modified && file.path != model_path)
        .expect("another changed file");
    services
        .decide_refined_file(&owner, &child.id.0, &other.path, Decision::Rejected)
        .await
        .expect("reject");
    let workspace = by_path(services.workspace_files(&owner, &child.id.0).await.expect("files"));
    assert_eq!(workspace.get(model_path).map(String::as_str), Some(proposed));
    assert_eq!(workspace.get(&other.path), other.before.as_ref());
    let decided = services.refinement(&owner, &child.id.0).await.expect("refinement");
    let decision_of = |path: &str| {
        decided.files.iter().find(|file| file.path == path).and_then(|file| file.decision)
    };
    assert_eq!(decision_of(model_path), Some(Decision::Accepted));
    assert_eq!(decision_of(&other.path), Some(Decision::Rejected));

    // Refusals: an unchanged path, a generation that refines nothing, viewers, outsiders.
    match services.decide_refined_file(&owner, &child.id.0, "nope.py", Decision::Accepted).await {
        Err(ServiceError::Invalid(error)) => assert_eq!(error.field, "path"),
        other => panic!("an unchanged path: {other:?}"),
    }
    assert!(matches!(
        services.refinement(&owner, &parent.id.0).await,
        Err(ServiceError::Conflict(_))
    ));
    assert!(matches!(
        services.decide_refined_file(&viewer, &child.id.0, model_path, Decision::Rejected).await,
        Err(ServiceError::Forbidden(_))
    ));
    let outsider = Principal { org_id: ql_store::OrgId("another".into()), ..owner.clone() };
    assert!(matches!(
        services.refinement(&outsider, &child.id.0).await,
        Err(ServiceError::NotFound(_))
    ));
    assert!(matches!(
        services.refine_generation(&outsider, &parent.id.0, "Expenses have a date.").await,
        Err(ServiceError::NotFound(_))
    ));
}
