//! README kept true against the code: its table of environment variables names every
//! variable the crate and its programs read and no other; its exit-code table is the tool's;
//! its list of the sandbox's options is the program's.

use std::{collections::BTreeSet, path::Path};

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

/// Every `.rs` file under `dir`, with its text.
fn sources(dir: &Path, found: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push((
                path.display().to_string(),
                std::fs::read_to_string(&path).unwrap(),
            ));
        }
    }
}

/// The names in `text` that look like environment variables: a string literal of capitals
/// with one of the crate's prefixes, or any such literal handed to a function that reads the
/// environment.
fn variables_named(text: &str) -> BTreeSet<String> {
    const PREFIXES: [&str; 4] = [
        "REVENUE_AGENTS_",
        "HOCKEYSTACK_",
        "HYPERREP_",
        "QUICKSTART_",
    ];
    const READERS: [&str; 6] = ["var(", "var_os(", "read(", "switch(", "flag(", "variable("];
    let mut names = BTreeSet::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(offset) = text[i..].find('"') {
        let start = i + offset + 1;
        let end = start
            + bytes[start..]
                .iter()
                .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || **b == b'_')
                .count();
        if end > start + 2 && bytes.get(end) == Some(&b'"') {
            let name = &text[start..end];
            let read_here = READERS
                .iter()
                .any(|reader| text[..start - 1].ends_with(reader));
            if PREFIXES.iter().any(|p| name.starts_with(p)) || read_here {
                names.insert(name.to_owned());
            }
            i = end + 1;
        } else {
            i = start;
        }
    }
    names
}

/// The variables README's table lists: every backticked name in its first column.
fn variables_in_readme_table(readme: &str) -> BTreeSet<String> {
    let table: Vec<&str> = readme
        .lines()
        .skip_while(|l| !l.starts_with("| variable | read by |"))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .collect();
    assert!(
        !table.is_empty(),
        "README has no table of environment variables"
    );
    table
        .iter()
        .flat_map(|row| {
            let first = row.split('|').nth(1).unwrap_or_default();
            first
                .split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn the_environment_table_lists_what_the_code_reads_and_nothing_else() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut code = Vec::new();
    sources(&root.join("src"), &mut code);
    sources(&root.join("examples"), &mut code);
    let read: BTreeSet<String> = code
        .iter()
        .flat_map(|(_, text)| variables_named(text))
        .collect();
    let mut tests = Vec::new();
    sources(&root.join("tests"), &mut tests);
    let read_by_tests: BTreeSet<String> = tests
        .iter()
        .filter(|(path, _)| !path.ends_with("readme.rs"))
        .flat_map(|(_, text)| variables_named(text))
        .collect();
    let listed = variables_in_readme_table(&readme());

    let unlisted: Vec<_> = read.difference(&listed).collect();
    assert!(
        unlisted.is_empty(),
        "read by the code, missing from README's table: {unlisted:?}"
    );
    let unread: Vec<_> = listed
        .iter()
        .filter(|name| !read.contains(*name) && !read_by_tests.contains(*name))
        .collect();
    assert!(
        unread.is_empty(),
        "in README's table, read by nothing: {unread:?}"
    );
}

#[test]
fn the_scanner_finds_variables_however_they_are_read() {
    let found = variables_named(
        r#"const A: &str = "REVENUE_AGENTS_X"; read("HOME")?; flag("NO_PREFIX_FLAG"); let s = "HTTP_OK"; "#,
    );
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        ["HOME", "NO_PREFIX_FLAG", "REVENUE_AGENTS_X"]
    );
}

/// The `--flags` of a text.
#[cfg(feature = "sandbox")]
fn flags(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|word| word.starts_with("--") && word.len() > 2)
        .map(str::to_owned)
        .collect()
}

#[cfg(feature = "sandbox")]
#[test]
fn the_sandbox_options_in_readme_are_the_program_s() {
    let readme = readme();
    let listed = readme
        .lines()
        .skip_while(|l| !l.starts_with("Options: `--host`"))
        .take_while(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_revenue-agents-sandbox"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    let mut offered = flags(&help);
    offered.remove("--help");
    offered.remove("--version");
    assert_eq!(flags(&listed), offered, "README: {listed}\nhelp: {help}");
}

#[cfg(feature = "cli")]
#[test]
fn the_exit_code_table_in_readme_is_the_tool_s() {
    let codes_in_readme: BTreeSet<u32> = readme()
        .lines()
        .skip_while(|l| !l.starts_with("| exit code | meaning |"))
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split(" |").next()?.trim().parse().ok())
        .collect();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_revenue-agents"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    let codes_in_help: BTreeSet<u32> = help
        .lines()
        .skip_while(|l| !l.starts_with("Exit codes:"))
        .skip(1)
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect();
    assert!(codes_in_help.len() > 5, "{help}");
    assert_eq!(codes_in_readme, codes_in_help);
}
