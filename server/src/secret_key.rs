//! The installation's keys: the secret key that seals provider secrets at rest
//! (`QL_SECRET_KEY`, 64 hex digits, when set, else `secret.key` in the data directory) and the
//! ed25519 key that signs capsules (`capsule-signing.key`). Key files are created on first use
//! with mode 0600 and refused if others can read them.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use anyhow::Context as _;
use ql_services::SecretBox;

/// The key file's name inside the data directory.
pub const KEY_FILE: &str = "secret.key";
/// The file holding the ed25519 key that signs this installation's capsules.
pub const CAPSULE_KEY_FILE: &str = "capsule-signing.key";

/// The secret box for this installation.
pub fn load(from_env: Option<&str>, data_dir: &Path) -> anyhow::Result<SecretBox> {
    if let Some(hex) = from_env {
        return SecretBox::from_hex(hex).context("QL_SECRET_KEY");
    }
    let hex =
        private_key_file(data_dir, KEY_FILE, SecretBox::generate_hex, "seals provider secrets")?;
    SecretBox::from_hex(&hex).with_context(|| format!("{}", data_dir.join(KEY_FILE).display()))
}

/// The key that signs this installation's capsules.
pub fn capsule_key(data_dir: &Path) -> anyhow::Result<ql_capsule::InstallationKey> {
    let hex = private_key_file(
        data_dir,
        CAPSULE_KEY_FILE,
        || ql_capsule::InstallationKey::generate().to_hex(),
        "signs capsules",
    )?;
    ql_capsule::InstallationKey::from_hex(&hex)
        .with_context(|| format!("{}", data_dir.join(CAPSULE_KEY_FILE).display()))
}

/// The text of a key file in the data directory, created with mode 0600 from `generate` on
/// first use, and refused when other users can read it.
fn private_key_file(
    data_dir: &Path,
    name: &str,
    generate: impl FnOnce() -> String,
    purpose: &str,
) -> anyhow::Result<String> {
    let path = data_dir.join(name);
    match std::fs::metadata(&path) {
        Ok(meta) => {
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                anyhow::bail!(
                    "{} can be read by other users (mode {:o}); run `chmod 600 {}`",
                    path.display(),
                    mode & 0o777,
                    path.display()
                );
            }
            std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(data_dir).with_context(|| {
                format!("cannot create the data directory {}", data_dir.display())
            })?;
            let text = generate();
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            file.write_all(text.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            tracing::info!(path = %path.display(), "created the key that {purpose}; back it up");
            Ok(text)
        }
        Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_file_is_created_private_reused_and_refused_when_others_can_read_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = load(None, dir.path()).expect("created");
        let path = dir.path().join(KEY_FILE);
        assert_eq!(std::fs::metadata(&path).expect("file").permissions().mode() & 0o777, 0o600);
        let sealed = first.seal("sk-1", "ctx").expect("seal");
        let again = load(None, dir.path()).expect("reused");
        assert_eq!(again.open(&sealed, "ctx").expect("same key"), "sk-1");

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let refused = load(None, dir.path()).expect_err("readable by others");
        assert!(refused.to_string().contains("chmod 600"), "{refused}");

        let from_env = load(Some(&"cd".repeat(32)), dir.path()).expect("env key wins");
        assert!(from_env.open(&sealed, "ctx").is_err(), "a different key");
        assert!(load(Some("short"), dir.path()).is_err());

        let signing = capsule_key(dir.path()).expect("created");
        let path = dir.path().join(CAPSULE_KEY_FILE);
        assert_eq!(std::fs::metadata(&path).expect("file").permissions().mode() & 0o777, 0o600);
        assert_eq!(
            capsule_key(dir.path()).expect("reused").public_key_hex(),
            signing.public_key_hex()
        );
    }
}
