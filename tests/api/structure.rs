//! The structural rules of ARCHITECTURE.md, read off the source: a change that breaks one fails
//! here, with the place that breaks it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_FUNCTION_LINES: usize = 80;
const MAX_MODULE_LINES: usize = 400;

/// The workspace's root.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, as (path relative to the root, source).
fn sources(dir: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut stack = vec![root().join(dir)];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("a readable source folder") {
            let path = entry.expect("a folder entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("a readable source file");
                let rel = path.strip_prefix(root()).expect("under the root");
                found.push((rel.display().to_string(), text));
            }
        }
    }
    found.sort();
    found
}

/// The source with comments, string and character literals blanked out (line breaks kept, so
/// that line numbers still hold), and the module's `#[cfg(test)]` code cut off.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    let b = text.as_bytes();
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    let keep = |out: &mut String, c: u8| out.push(if c == b'\n' { '\n' } else { ' ' });
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                    keep(&mut out, b[i]);
                    i += 1;
                }
                i += 2;
            }
            b'r' if matches!(b.get(i + 1), Some(b'"' | b'#'))
                && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) =>
            {
                let mut j = i + 1;
                let mut hashes = 0;
                while b.get(j) == Some(&b'#') {
                    hashes += 1;
                    j += 1;
                }
                if b.get(j) != Some(&b'"') {
                    out.push('r');
                    i += 1;
                    continue;
                }
                let close: Vec<u8> = std::iter::once(b'"')
                    .chain(std::iter::repeat_n(b'#', hashes))
                    .collect();
                out.push_str("\"\"");
                i = j + 1;
                while i < b.len() && !b[i..].starts_with(&close) {
                    keep(&mut out, b[i]);
                    i += 1;
                }
                i += close.len();
            }
            b'"' => {
                out.push_str("\"\"");
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        keep(&mut out, b[i]);
                        i += 1;
                    }
                    if i < b.len() {
                        keep(&mut out, b[i]);
                    }
                    i += 1;
                }
                i += 1;
            }
            // A character literal ('x', '\n', '\u{..}'), not a lifetime ('a).
            b'\'' if b.get(i + 2) == Some(&b'\'') || b.get(i + 1) == Some(&b'\\') => {
                out.push_str("' '");
                i += 1;
                while i < b.len() && b[i] != b'\'' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            c => {
                out.push(c as char);
                i += 1;
            }
        }
    }
    out
}

/// Each function in `code` (see [`code`]) whose body runs over the limit: (name, first line,
/// lines).
fn long_functions(code: &str) -> Vec<(String, usize, usize)> {
    let fn_start = regex::Regex::new(r"\bfn\s+(\w+)").expect("a pattern");
    let mut found = Vec::new();
    for m in fn_start.captures_iter(code) {
        let start = m.get(0).map_or(0, |m| m.start());
        let rest = &code[start..];
        // A declaration without a body (a trait's) ends at `;` before any `{`.
        let Some(open) = rest
            .find(['{', ';'])
            .filter(|&i| rest.as_bytes()[i] == b'{')
        else {
            continue;
        };
        let mut depth = 0usize;
        let mut end = None;
        for (i, c) in rest[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(open + i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(end) = end else { continue };
        let lines = rest[..=end].lines().count();
        if lines > MAX_FUNCTION_LINES {
            let line = code[..start].lines().count() + 1;
            found.push((m[1].to_string(), line, lines));
        }
    }
    found
}

fn all_code() -> Vec<(String, String)> {
    let mut all = sources("src");
    all.extend(sources("bms-sandbox/src"));
    all.into_iter().map(|(p, t)| (p, code(&t))).collect()
}

#[test]
fn no_function_is_over_eighty_lines() {
    let long: Vec<String> = all_code()
        .iter()
        .flat_map(|(path, code)| {
            long_functions(code)
                .into_iter()
                .map(move |(name, line, n)| format!("{path}:{line} fn {name}: {n} lines"))
        })
        .collect();
    assert!(
        long.is_empty(),
        "split these into functions of at most {MAX_FUNCTION_LINES} lines, or make them \
         table-driven:\n{}",
        long.join("\n")
    );
}

#[test]
fn no_module_is_over_four_hundred_lines_before_its_tests() {
    let long: Vec<String> = all_code()
        .iter()
        .filter(|(path, _)| !path.ends_with("/tests.rs"))
        .filter(|(_, code)| code.lines().count() > MAX_MODULE_LINES)
        .map(|(path, code)| format!("{path}: {} lines", code.lines().count()))
        .collect();
    assert!(
        long.is_empty(),
        "split these modules by what they hold (at most {MAX_MODULE_LINES} lines before their \
         tests):\n{}",
        long.join("\n")
    );
}

/// The crate's top-level modules, as `src/lib.rs` declares them.
fn top_modules() -> BTreeSet<String> {
    let lib = std::fs::read_to_string(root().join("src/lib.rs")).expect("src/lib.rs");
    let decl = regex::Regex::new(r"(?m)^(?:pub(?:\(crate\))? )?mod (\w+);").expect("a pattern");
    decl.captures_iter(&lib).map(|c| c[1].to_string()).collect()
}

/// The top-level module a file of `src/` belongs to (`None` for the crate root and binaries).
fn top_of(path: &str) -> Option<String> {
    let rel = path.strip_prefix("src/")?;
    let first = rel.split('/').next()?.trim_end_matches(".rs");
    (!matches!(first, "lib" | "main" | "bin")).then(|| first.to_string())
}

/// Which top-level modules each one names (`crate::x`, `crate::{x, y}`), outside comments and
/// tests, with the files that do.
fn module_uses() -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let modules = top_modules();
    let single = regex::Regex::new(r"crate::(\w+)").expect("a pattern");
    let group = regex::Regex::new(r"crate::\{([^}]*)\}").expect("a pattern");
    let word = regex::Regex::new(r"\w+").expect("a pattern");
    let mut uses: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for (path, code) in sources("src").iter().map(|(p, t)| (p, code(t))) {
        let Some(top) = top_of(path) else { continue };
        let named = single.captures_iter(&code).map(|c| c[1].to_string());
        let grouped: Vec<String> = group
            .captures_iter(&code)
            .flat_map(|c| {
                word.find_iter(&c[1])
                    .map(|w| w.as_str().to_string())
                    .collect::<Vec<_>>()
            })
            .filter(|w| modules.contains(w))
            .collect();
        for used in named.chain(grouped).filter(|m| *m != top) {
            uses.entry(top.clone())
                .or_default()
                .entry(used)
                .or_default()
                .insert(path.clone());
        }
    }
    uses
}

#[test]
fn no_module_reaches_into_the_crate_root() {
    let modules = top_modules();
    let reaching: Vec<String> = module_uses()
        .into_values()
        .flatten()
        .filter(|(name, _)| !modules.contains(name))
        .map(|(name, files)| format!("crate::{name} in {files:?}"))
        .collect();
    assert!(
        reaching.is_empty(),
        "src/lib.rs only wires; what modules share lives in a module of its own (src/state.rs): \
         {reaching:?}"
    );
}

#[test]
fn the_top_level_modules_depend_on_each_other_without_a_circle() {
    let uses = module_uses();
    let mut circles = Vec::new();
    for (from, used) in &uses {
        for to in used.keys() {
            // Does `to` lead back to `from`?
            let mut seen = BTreeSet::new();
            let mut stack = vec![to.clone()];
            while let Some(m) = stack.pop() {
                if m == *from {
                    circles.push(format!("{from} -> {to} -> ... -> {from}"));
                    break;
                }
                if seen.insert(m.clone()) {
                    stack.extend(uses.get(&m).into_iter().flat_map(|u| u.keys().cloned()));
                }
            }
        }
    }
    assert!(circles.is_empty(), "{circles:#?}\n{uses:#?}");
}

/// The files of `src/` that name `what` (a word), outside comments and tests.
fn files_naming(what: &str) -> BTreeSet<String> {
    let word = regex::Regex::new(&format!(r"\b{what}\b")).expect("a pattern");
    sources("src")
        .into_iter()
        .filter(|(_, text)| word.is_match(&code(text)))
        .map(|(path, _)| path)
        .collect()
}

#[test]
fn problem_json_lives_at_the_edge() {
    let outside: Vec<String> = files_naming("Problem")
        .into_iter()
        .filter(|p| !p.starts_with("src/routes/"))
        .collect();
    assert!(
        outside.is_empty(),
        "each layer has its own error; only src/routes/ turns them into a Problem: {outside:?}"
    );
}

#[test]
fn one_place_builds_the_http_answers() {
    let builders: Vec<String> = files_naming("Response::builder")
        .into_iter()
        // The AWS SDK's answers, carried by the function's HTTP client: not a caller's answer.
        .filter(|p| p != "src/net/aws.rs")
        .collect();
    assert_eq!(builders, ["src/routes/answer.rs"]);
}

#[test]
fn the_pipeline_the_queue_and_the_replay_name_no_application_type() {
    let naming: Vec<String> = ["State", "App"]
        .into_iter()
        .flat_map(files_naming)
        .filter(|p| {
            p.starts_with("src/press/") || p.starts_with("src/queue/") || p == "src/replay.rs"
        })
        .collect();
    assert!(
        naming.is_empty(),
        "they are handed what they use (press::Pipeline, replay::Replay): {naming:?}"
    );
}

#[test]
fn kaseya_knows_nothing_of_requests() {
    let uses = module_uses();
    let knows: Vec<&String> = uses
        .get("kaseya")
        .into_iter()
        .flat_map(|u| u.keys())
        .filter(|m| {
            [
                "routes", "press", "state", "queue", "replay", "osticket", "web", "rules",
            ]
            .contains(&m.as_str())
        })
        .collect();
    let http: Vec<String> = sources("src/kaseya")
        .into_iter()
        .filter(|(_, t)| code(t).contains("lambda_http"))
        .map(|(p, _)| p)
        .collect();
    assert!(knows.is_empty() && http.is_empty(), "{knows:?} {http:?}");
}

/// Every source file is on the map, and every path the map names exists.
#[test]
fn the_map_names_every_module_and_only_modules_that_exist() {
    let map = std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let path =
        regex::Regex::new(r"`((?:src|bms-sandbox|tests|benches)/[\w/.-]*)`").expect("a pattern");
    let missing: Vec<String> = path
        .captures_iter(&map)
        .map(|c| c[1].to_string())
        .filter(|p| !Path::new(&root().join(p.trim_end_matches('/'))).exists())
        .collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names what is not there: {missing:?}"
    );
    let unnamed: Vec<String> = sources("src")
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| !p.ends_with("/tests.rs"))
        .filter(|p| {
            let file = Path::new(p)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned());
            let folder = Path::new(p).parent().map(|f| format!("{}/", f.display()));
            // A file is on the map by its path, or by its name in its folder's row.
            let by_path = map.contains(&format!("`{p}`"));
            let by_name = file.is_some_and(|f| map.contains(&format!("`{f}`")))
                && folder.is_some_and(|f| map.contains(&format!("`{f}`")));
            !(by_path || by_name)
        })
        .collect();
    assert!(
        unnamed.is_empty(),
        "put these on ARCHITECTURE.md's map: {unnamed:?}"
    );
}

#[test]
fn the_scanner_sees_through_strings_and_comments() {
    let text = "fn a() {\n    let s = \"}\"; // }\n    let c = '}';\n    let r = r#\"}\"#;\n}\n";
    let cleaned = code(text);
    assert_eq!(cleaned.lines().count(), text.lines().count());
    assert_eq!(cleaned.matches('}').count(), 1, "{cleaned}");
    let long = format!("fn big() {{\n{}}}\n", "    x();\n".repeat(90));
    assert_eq!(long_functions(&code(&long)), [("big".to_string(), 1, 92)]);
    assert!(long_functions(&code("fn small() {\n}\n")).is_empty());
}
