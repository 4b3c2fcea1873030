use super::*;
use crate::testing::{EXPENSES, services, succeeded_generation};

fn file(path: &str, text: &str) -> ProjectFile {
    ProjectFile { path: path.to_owned(), contents: text.as_bytes().to_vec() }
}

fn saved(path: &str, text: &str, at: i64) -> FileVersion {
    FileVersion {
        generation_id: GenerationId("g".into()),
        path: path.to_owned(),
        version: 2,
        content: text.to_owned(),
        sha256: String::new(),
        note: "edited".into(),
        created_by: None,
        created_at: at,
    }
}

#[test]
fn only_saved_text_that_differs_or_a_file_left_out_makes_an_edited_capsule() {
    let generated = [file("a.py", "a\n"), file("b.py", "b\n"), file("added.py", "n\n")];
    let nothing = BTreeSet::new();
    assert!(edits_of(&generated, &[], &nothing).is_none());
    assert!(edits_of(&generated, &[saved("a.py", "a\n", 5)], &nothing).is_none());

    let saves = [saved("a.py", "a changed\n", 5), saved("b.py", "b\n", 9)];
    let left_out = BTreeSet::from(["added.py".to_owned()]);
    let edits = edits_of(&generated, &saves, &left_out).expect("edits");
    assert_eq!(edits.edited.changed, ["a.py"]);
    assert_eq!(edits.edited.removed, ["added.py"]);
    assert_eq!(edits.last_saved_at, 5, "only a save that changed something dates the capsule");
    let texts: Vec<(&str, &[u8])> =
        edits.files.iter().map(|file| (file.path.as_str(), &file.contents[..])).collect();
    assert_eq!(texts, [("a.py", &b"a changed\n"[..]), ("b.py", &b"b\n"[..])]);
}

#[tokio::test]
async fn the_download_carries_the_workspace_edits_signed_and_analysed_again() {
    let (services, _dir) = services().await;
    let key = ql_capsule::InstallationKey::generate();
    let public_key = key.public_key_hex();
    let services = services.with_capsule_key(key);
    let owner = services.sign_in_local().await.expect("sign in");
    let id = succeeded_generation(&services, &owner, EXPENSES).await;

    // Unedited: the generated capsule itself.
    let record = services.store.generations.get(&owner.org_id, &GenerationId(id.clone())).await;
    let capsule = record.expect("generation").capsule_id.expect("capsule");
    let generated = services.capsule_download(&owner, &capsule.0).await.expect("generated");
    let unedited = services.workspace_capsule(&owner, &id).await.expect("download");
    assert_eq!(unedited, generated);

    // An edit that adds a finding (eval of a value that is not a constant).
    let main = "app/main.py";
    let text = services.file_version(&owner, &id, main, 1).await.expect("main").content;
    let edited = format!("{text}\n\ndef run(command):\n    return eval(command)\n");
    services.save_file(&owner, &id, main, edited.clone(), Some(1)).await.expect("save");
    let (name, sha256, bytes) = services.workspace_capsule(&owner, &id).await.expect("download");
    assert!(name.ends_with(&format!("-edited-{}.zip", &sha256[..12])), "{name}");
    assert_eq!(sha256, hex::encode(Sha256::digest(&bytes)));
    let verified = ql_capsule::verify(&bytes, &Limits::default()).expect("verifies");
    assert_eq!(verified.signature.public_key, public_key);
    let in_capsule = verified.files.iter().find(|file| file.path == main).expect("main.py");
    assert_eq!(in_capsule.contents, edited.as_bytes());
    let generated = ql_capsule::verify(&generated.2, &Limits::default()).expect("generated");
    assert_eq!(verified.files.len(), generated.files.len());
    let manifest = &verified.manifest;
    let edits = manifest.edited.as_ref().expect("marked as edited");
    assert_eq!(
        (edits.from.as_str(), edits.changed.as_slice()),
        (generated.manifest.id.as_str(), &[main.to_owned()][..])
    );
    assert!(manifest.id.starts_with(&format!("{}-edited-", generated.manifest.id)));
    assert!(manifest.validation.findings_medium > generated.manifest.validation.findings_medium);
    assert!(!manifest.validation.tests_ran);

    // The same workspace, the same bytes; another organisation sees nothing.
    let again = services.workspace_capsule(&owner, &id).await.expect("again");
    assert_eq!(again.1, sha256);
    let outsider = Principal { org_id: ql_store::OrgId("another".into()), ..owner.clone() };
    assert!(matches!(
        services.workspace_capsule(&outsider, &id).await,
        Err(ServiceError::NotFound(_))
    ));
}
