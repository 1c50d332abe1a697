//! The documentation a technician reads: a README short enough to read in ten minutes, whose two
//! commands exist, and links between the pages that lead somewhere (a file that exists, and for
//! an `#anchor` into a markdown page, a heading that makes it, as GitHub makes anchors).

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

/// The most lines the README may have: what fits ten minutes of reading.
const MAX_README_LINES: usize = 300;

/// The two commands a newcomer runs on a fresh machine, as the README gives them.
const COMMANDS: [&str; 2] = ["scripts/demo", "scripts/test"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{} cannot be read: {e}", path.display()))
}

/// The README and every page of docs/, as paths relative to the root.
fn pages() -> Vec<String> {
    let mut pages = vec!["README.md".to_string()];
    let mut docs: Vec<String> = std::fs::read_dir(root().join("docs"))
        .expect("docs/")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/{name}"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

/// The lines of `text` outside fenced code blocks, with their line numbers (from 1).
fn prose(text: &str) -> Vec<(usize, &str)> {
    let mut fenced = false;
    let mut lines = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            lines.push((i + 1, line));
        }
    }
    lines
}

/// The fenced code blocks of `text`, each as its lines.
fn code_blocks(text: &str) -> Vec<Vec<&str>> {
    let mut blocks = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            match current.take() {
                Some(block) => blocks.push(block),
                None => current = Some(Vec::new()),
            }
        } else if let Some(block) = current.as_mut() {
            block.push(line);
        }
    }
    blocks
}

/// `line` without its inline code spans, where a `[x](y)` is text, not a link.
fn without_code_spans(line: &str) -> String {
    let span = regex::Regex::new(r"`+[^`]*`+").expect("a pattern");
    span.replace_all(line, "").into_owned()
}

/// The anchor GitHub makes of a heading's text: its words in lower case, punctuation dropped
/// (but `-` and `_`), each space a `-`.
fn slug(heading: &str) -> String {
    let link = regex::Regex::new(r"\[([^\]]*)\]\([^)]*\)").expect("a pattern");
    let text = link.replace_all(heading, "$1");
    text.trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// Every anchor the headings of a markdown page make; a repeated heading gets `-1`, `-2`, ….
fn anchors(text: &str) -> BTreeSet<String> {
    let mut made = BTreeSet::new();
    for (_, line) in prose(text) {
        let hashes = line.chars().take_while(|&c| c == '#').count();
        if hashes == 0 || hashes > 6 || !line[hashes..].starts_with(' ') {
            continue;
        }
        let text = line[hashes..].replace(['`', '*'], "");
        let base = slug(&text);
        let mut anchor = base.clone();
        let mut n = 0;
        while made.contains(&anchor) {
            n += 1;
            anchor = format!("{base}-{n}");
        }
        made.insert(anchor);
    }
    made
}

/// The relative links of a page: `[text](target)` and `src="target"`, with their line numbers.
/// Web addresses and e-mail are not the repository's to check.
fn relative_links(text: &str) -> Vec<(usize, String)> {
    let markdown = regex::Regex::new(r"\]\(([^)\s]+)\)").expect("a pattern");
    let html = regex::Regex::new(r#"(?:src|href)="([^"]+)""#).expect("a pattern");
    let mut links = Vec::new();
    for (n, line) in prose(text) {
        let line = without_code_spans(line);
        for c in markdown
            .captures_iter(&line)
            .chain(html.captures_iter(&line))
        {
            let target = c[1].to_string();
            let external = ["http://", "https://", "mailto:"]
                .iter()
                .any(|scheme| target.starts_with(scheme));
            if !external {
                links.push((n, target));
            }
        }
    }
    links
}

/// What is wrong with each relative link of `page`, if anything.
fn broken_links(page: &str) -> Vec<String> {
    let text = read(&root().join(page));
    let dir = Path::new(page).parent().unwrap_or(Path::new(""));
    let mut broken = Vec::new();
    for (line, target) in relative_links(&text) {
        let (file, anchor) = match target.split_once('#') {
            Some((file, anchor)) => (file, Some(anchor)),
            None => (target.as_str(), None),
        };
        let linked = if file.is_empty() {
            root().join(page)
        } else {
            root().join(dir).join(file)
        };
        if !linked.exists() {
            broken.push(format!("{page}:{line}: `{target}`: there is no {file}"));
            continue;
        }
        let Some(anchor) = anchor.filter(|_| linked.extension().is_some_and(|e| e == "md")) else {
            continue;
        };
        if !anchors(&read(&linked)).contains(anchor) {
            broken.push(format!(
                "{page}:{line}: `{target}`: no heading of {} makes the anchor #{anchor}",
                linked.strip_prefix(root()).unwrap_or(&linked).display()
            ));
        }
    }
    broken
}

#[test]
fn the_readme_is_short_enough_to_read_in_ten_minutes() {
    let lines = read(&root().join("README.md")).lines().count();
    assert!(
        lines <= MAX_README_LINES,
        "README.md has {lines} lines; at most {MAX_README_LINES}: move the details to a page of \
         docs/ and link it"
    );
}

#[test]
fn the_readme_gives_the_two_commands_and_each_is_an_executable_script() {
    let readme = read(&root().join("README.md"));
    let command = |line: &str| {
        line.split('#')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    let together = code_blocks(&readme).into_iter().any(|block| {
        let commands: Vec<String> = block
            .iter()
            .map(|l| command(l))
            .filter(|l| !l.is_empty())
            .collect();
        commands == COMMANDS
    });
    assert!(
        together,
        "README.md should give {COMMANDS:?} together in one code block, and nothing else in it"
    );
    for script in COMMANDS {
        let path = root().join(script);
        let mode = std::fs::metadata(&path)
            .unwrap_or_else(|e| panic!("README.md names {script}, which is not there: {e}"))
            .permissions()
            .mode();
        assert!(
            mode & 0o111 != 0,
            "README.md names {script}, which is not executable: chmod +x {script}"
        );
    }
}

#[test]
fn every_relative_link_of_the_readme_and_docs_leads_somewhere() {
    let broken: Vec<String> = pages().iter().flat_map(|p| broken_links(p)).collect();
    assert!(
        broken.is_empty(),
        "links that lead nowhere:\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_readme_links_every_page_of_docs() {
    let readme = read(&root().join("README.md"));
    let linked: BTreeSet<String> = relative_links(&readme)
        .into_iter()
        .map(|(_, target)| target.split('#').next().unwrap_or_default().to_string())
        .collect();
    let unlinked: Vec<String> = pages()
        .into_iter()
        .skip(1)
        .filter(|page| !linked.contains(page))
        .collect();
    assert!(
        unlinked.is_empty(),
        "README.md's links should name every page of docs/; it lacks {unlinked:?}"
    );
}

#[test]
fn anchors_are_made_as_github_makes_them() {
    let page = "# Ticket rules (`BUTTON_RULES`)\n## The checker: `button-rules`\n\
                ### 4. Impact × urgency matrix\n```sh\n# not a heading\n```\n## Limits\n## Limits\n\
                #nope\n## A [link](x.md) inside\n";
    let made = anchors(page);
    let expected = [
        "ticket-rules-button_rules",
        "the-checker-button-rules",
        "4-impact--urgency-matrix",
        "limits",
        "limits-1",
        "a-link-inside",
    ];
    assert_eq!(
        made,
        expected
            .iter()
            .map(|s| s.to_string())
            .collect::<BTreeSet<_>>()
    );
    let links = relative_links(
        "[a](x.md#y) `[b](no.md)` ![c](img.png) <img src=\"d.png\"> [e](https://x.y)\n```\n[f](no.md)\n```\n",
    );
    let targets: Vec<&str> = links.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(targets, ["x.md#y", "img.png", "d.png"]);
}
