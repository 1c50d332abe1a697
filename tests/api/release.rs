//! What a release ships (`scripts/package`, and the release workflow that runs it for both
//! architectures): a template whose `CodeUri` is each function's zip, so that `sam deploy` from
//! the unpacked folder uploads the zips as they are and builds nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_norway::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn yaml(text: &str, what: &str) -> Value {
    serde_norway::from_str(text).unwrap_or_else(|e| panic!("{what} is not YAML: {e}"))
}

/// `template.yaml` as `scripts/lib/release-template` rewrites it for `architecture`.
fn release_template(architecture: &str) -> Value {
    let source = std::fs::File::open(Path::new(ROOT).join("template.yaml")).expect("template");
    let out = Command::new(Path::new(ROOT).join("scripts/lib/release-template"))
        .arg(architecture)
        .stdin(source)
        .stderr(Stdio::inherit())
        .output()
        .expect("scripts/lib/release-template runs");
    assert!(out.status.success(), "release-template failed");
    yaml(
        &String::from_utf8_lossy(&out.stdout),
        "the release template",
    )
}

/// The template's functions, by resource name.
fn functions(template: &Value) -> Vec<(String, &Value)> {
    let resources = template["Resources"].as_mapping().expect("Resources");
    resources
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::Serverless::Function"))
        .map(|(name, r)| (name.as_str().unwrap_or("?").to_string(), r))
        .collect()
}

fn keys(map: &Value) -> Vec<String> {
    let map = map.as_mapping().expect("a mapping");
    map.keys()
        .map(|k| k.as_str().unwrap_or("?").into())
        .collect()
}

#[test]
fn a_release_template_deploys_each_functions_zip_and_builds_nothing() {
    let source = yaml(include_str!("../../template.yaml"), "template.yaml");
    let package = include_str!("../../scripts/package");
    let packaged = package
        .lines()
        .find_map(|l| l.strip_prefix("functions=("))
        .expect("scripts/package lists its functions");
    for architecture in ["arm64", "x86_64"] {
        let release = release_template(architecture);
        let found = functions(&release);
        assert_eq!(found.len(), functions(&source).len(), "{architecture}");
        assert!(found.len() >= 2, "{found:?}");
        for (name, function) in found {
            let binary = source["Resources"][&name]["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .unwrap_or_else(|| panic!("{name} names no Binary for cargo-lambda"));
            assert_eq!(
                function["Properties"]["CodeUri"].as_str(),
                Some(format!("{binary}.zip").as_str()),
                "{name}"
            );
            assert!(
                function["Metadata"].get("BuildMethod").is_none(),
                "{name}: a release builds nothing"
            );
            assert!(
                packaged
                    .split_whitespace()
                    .any(|b| b.trim_end_matches(')') == binary),
                "scripts/package does not zip {binary}, which {name} deploys"
            );
        }
        let parameter = &release["Parameters"]["Architecture"];
        assert_eq!(parameter["Default"].as_str(), Some(architecture));
        let allowed: Vec<_> = parameter["AllowedValues"]
            .as_sequence()
            .expect("AllowedValues")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(allowed, [architecture], "the zips run on one architecture");
        // Nothing else is taken away.
        assert_eq!(keys(&release["Resources"]), keys(&source["Resources"]));
        assert_eq!(keys(&release["Parameters"]), keys(&source["Parameters"]));
        assert_eq!(release["Outputs"], source["Outputs"]);
    }
}

/// The files a zip holds, each with its Unix mode.
fn zip_entries(zip: &Path) -> Vec<(String, u32)> {
    let list = "import json, sys, zipfile\n\
                z = zipfile.ZipFile(sys.argv[1])\n\
                print(json.dumps([[i.filename, i.external_attr >> 16] for i in z.infolist()]))";
    let out = Command::new("python3")
        .args(["-c", list])
        .arg(zip)
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "{} is not a zip", zip.display());
    serde_json::from_slice(&out.stdout).expect("the listing")
}

fn unzipped(zip: &Path, name: &str) -> Vec<u8> {
    let out = Command::new("unzip")
        .arg("-p")
        .arg(zip)
        .arg(name)
        .output()
        .expect("unzip runs");
    assert!(out.status.success(), "{name} from {}", zip.display());
    out.stdout
}

/// ELF's `e_machine` for a Lambda architecture.
fn elf_machine(architecture: &str) -> u16 {
    match architecture {
        "x86_64" => 62,
        "arm64" => 183,
        other => panic!("no Lambda architecture is called {other}"),
    }
}

/// Run by `scripts/package` on the folder it made, which `release_template` names.
#[tokio::test]
#[ignore = "scripts/package runs it on the release it made"]
async fn the_packaged_template_deploys_the_zips_it_names() {
    let template = PathBuf::from(
        std::env::var("release_template")
            .expect("release_template names a packaged template.yaml (scripts/package sets it)"),
    );
    let folder = template.parent().expect("the release folder");
    let text = std::fs::read_to_string(&template).expect("the packaged template");
    let release = yaml(&text, "the packaged template");
    let architecture = release["Parameters"]["Architecture"]["Default"]
        .as_str()
        .expect("an Architecture");
    let mut zips = Vec::new();
    for (name, function) in functions(&release) {
        let zip = folder.join(function["Properties"]["CodeUri"].as_str().expect("CodeUri"));
        assert!(
            zip.is_file(),
            "{name}: {} is not in the release",
            zip.display()
        );
        let entries = zip_entries(&zip);
        assert_eq!(entries.len(), 1, "{name}: {entries:?}");
        let (file, mode) = &entries[0];
        assert_eq!(file, "bootstrap", "{name}: Lambda runs `bootstrap`");
        assert_ne!(
            mode & 0o111,
            0,
            "{name}: bootstrap is not executable ({mode:o})"
        );
        let elf = unzipped(&zip, "bootstrap");
        assert!(
            elf.len() > 20 && elf.starts_with(b"\x7fELF"),
            "{name}: not an ELF binary"
        );
        let machine = u16::from_le_bytes([elf[18], elf[19]]);
        assert_eq!(
            machine,
            elf_machine(architecture),
            "{name} was built for another CPU"
        );
        zips.push((name, zip));
    }
    assert!(zips.len() >= 2);
    let samconfig = std::fs::read_to_string(folder.join("samconfig.toml")).expect("samconfig");
    assert!(
        samconfig.contains(&format!("\"Architecture={architecture}\"")),
        "samconfig.toml must deploy the zips' architecture"
    );
    sam_package_uploads_the_zips_as_they_are(&template, &zips).await;
}

/// `sam deploy` packages first: every local `CodeUri` is uploaded to S3 and replaced by its
/// address. Run here against moto's S3, with no cargo on `PATH`: the zips go up unchanged.
async fn sam_package_uploads_the_zips_as_they_are(template: &Path, zips: &[(String, PathBuf)]) {
    let moto = crate::support::moto::moto();
    let bucket = "release-deploys";
    let http = reqwest::Client::new();
    let made = http.put(format!("{}/{bucket}", moto.url)).send().await;
    assert!(made.expect("moto answers").status().is_success());
    let scratch = std::env::temp_dir().join(format!("release-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("a scratch folder");
    let config = scratch.join("aws-config");
    std::fs::write(&config, "[default]\ns3 =\n  addressing_style = path\n").expect("config");
    let packaged = scratch.join("packaged.yaml");
    // The SAM CLI and its Python, as a technician's machine has them: no cargo on PATH.
    let venv = Path::new(ROOT).join(".venv/bin");
    let aws = |program: &str| {
        let mut command = Command::new(venv.join(program));
        command
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", &scratch)
            .env("AWS_CONFIG_FILE", &config)
            .env("AWS_ENDPOINT_URL_S3", &moto.url)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("SAM_CLI_TELEMETRY", "0");
        command
    };
    let status = aws("sam")
        .args(["package", "--no-progressbar", "--s3-bucket", bucket])
        .arg("--template-file")
        .arg(template)
        .arg("--output-template-file")
        .arg(&packaged)
        .status()
        .unwrap_or_else(|e| panic!("sam did not run ({e}): scripts/package installs it"));
    assert!(status.success(), "sam package failed");
    let text = std::fs::read_to_string(&packaged).expect("sam package's template");
    let uploaded = yaml(&text, "sam package's template");
    assert_eq!(functions(&uploaded).len(), zips.len());
    for (name, zip) in zips {
        let function = &uploaded["Resources"][name.as_str()];
        let uri = function["Properties"]["CodeUri"].as_str().expect("CodeUri");
        let key = uri
            .strip_prefix(&format!("s3://{bucket}/"))
            .unwrap_or_else(|| panic!("{name}: {uri} is not in the bucket"));
        // Read back signed, as the deploy's CloudFormation would: moto refuses anonymous reads.
        let read = "import boto3, sys\n\
                    body = boto3.client('s3').get_object(Bucket=sys.argv[1], Key=sys.argv[2])\n\
                    sys.stdout.buffer.write(body['Body'].read())";
        let object = aws("python3")
            .args(["-c", read, bucket, key])
            .output()
            .expect("python3 runs");
        assert!(
            object.status.success(),
            "{name}: s3://{bucket}/{key} cannot be read"
        );
        let bytes = object.stdout;
        let local = std::fs::read(zip).expect("the zip");
        assert!(
            bytes[..] == local[..],
            "{name}: the upload is not {}",
            zip.display()
        );
    }
    let _ = std::fs::remove_dir_all(&scratch);
}
