//! The installation's secret key, which seals provider secrets at rest: `QL_SECRET_KEY` (64 hex
//! digits) when set, else `secret.key` in the data directory, created on first start with mode
//! 0600 and refused if others can read it.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use anyhow::Context as _;
use ql_services::SecretBox;

/// The key file's name inside the data directory.
pub const KEY_FILE: &str = "secret.key";

/// The secret box for this installation.
pub fn load(from_env: Option<&str>, data_dir: &Path) -> anyhow::Result<SecretBox> {
    if let Some(hex) = from_env {
        return SecretBox::from_hex(hex).context("QL_SECRET_KEY");
    }
    let path = data_dir.join(KEY_FILE);
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
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            SecretBox::from_hex(&text).with_context(|| format!("{}", path.display()))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(data_dir).with_context(|| {
                format!("cannot create the data directory {}", data_dir.display())
            })?;
            let hex = SecretBox::generate_hex();
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            file.write_all(hex.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            tracing::info!(path = %path.display(), "created the secret key that seals provider secrets; back it up");
            SecretBox::from_hex(&hex).context("the generated key")
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
    }
}
