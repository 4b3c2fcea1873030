//! Renders a description into a directory without validation:
//! `cargo run -p ql-engine --example render -- "DESCRIPTION" OUT_DIR [STACK]`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut arguments = std::env::args().skip(1);
    let description = arguments.next().ok_or("usage: render DESCRIPTION OUT_DIR")?;
    let out =
        std::path::PathBuf::from(arguments.next().ok_or("usage: render DESCRIPTION OUT_DIR")?);
    let stack = ql_engine::stacks::Stack::parse(
        &arguments.next().unwrap_or_else(|| "python-fastapi".to_owned()),
    )?;
    let extraction = ql_engine::spec::extract(&description)?;
    let files = ql_engine::templates::render(&extraction.spec, stack)?;
    for file in files {
        let path = out.join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, file.contents)?;
    }
    Ok(())
}
