//! dbt-duckdb's `external` materialization, its file side: where a model's
//! rows are written (`location`, else `<external_root>/<name>.<format>`), in
//! which format (`format`, else the location's extension, else csv when a
//! `delimiter` is given, else parquet), with which `COPY` options, and how
//! the view over the file reads it. The rows go to a temporary path first
//! and replace the old file (or partition folder) only once written, so a
//! model that fails keeps the file it had. `templates/materializations/
//! external.sql` runs the SQL.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::config::NodeConfig;

/// The file (or, partitioned, the folder) of one external model.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalFile {
    pub location: String,
    /// Where the rows are written first.
    pub temp_location: String,
    pub format: String,
    /// What goes in `COPY ... TO '<file>' (<options>)`.
    pub copy_options: String,
    /// The expression the model's view reads the file with.
    pub read: String,
    /// Whether the location is a folder of hive partitions.
    pub partitioned: bool,
}

const FORMATS: [&str; 3] = ["parquet", "csv", "json"];

/// Options whose values `COPY` takes as strings.
const QUOTED_OPTIONS: [&str; 4] = ["delimiter", "quote", "escape", "null"];

/// What an external model's config says that dbt-duckdb does not act on.
pub fn ignored_keys(config: &NodeConfig) -> Vec<String> {
    let in_options = |key: &str| config.get("options").and_then(|o| o.get(key)).is_some();
    let mut said = Vec::new();
    if config.get("partition_by").is_some() && !in_options("partition_by") {
        said.push(
            "`partition_by` of an external model is read only inside `options:` (as dbt-duckdb \
             reads it); this one writes one file"
                .to_string(),
        );
    }
    said
}

/// The file of the model named `identifier`, from its config and the
/// profile's `external_root`.
pub fn plan(
    config: &NodeConfig,
    identifier: &str,
    external_root: &str,
) -> Result<ExternalFile, String> {
    let mut options: Vec<(String, Json)> = match config.get("options") {
        None => Vec::new(),
        Some(Json::Object(map)) => map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        Some(other) => {
            return Err(format!(
                "`options` must be a mapping of COPY options, not {other}"
            ));
        }
    };
    if let Some(delimiter) = config.get("delimiter")
        && !options.iter().any(|(k, _)| k == "delimiter")
    {
        options.push(("delimiter".into(), delimiter.clone()));
    }
    let partition_columns = match options.iter().find(|(k, _)| k == "partition_by") {
        None => Vec::new(),
        Some((_, Json::String(columns))) => columns
            .split(',')
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect(),
        Some((_, Json::Array(columns))) => columns
            .iter()
            .map(|c| {
                c.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| c.to_string())
            })
            .collect(),
        Some((_, other)) => {
            return Err(format!(
                "`partition_by` must name columns (a string or a list), not {other}"
            ));
        }
    };
    let partitioned = !partition_columns.is_empty();
    let location = config.get_str("location").map(str::to_string);
    let format = match config.get_str("format") {
        Some(format) => format.to_ascii_lowercase(),
        None => location
            .as_deref()
            .and_then(|l| Path::new(l).extension())
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .filter(|e| FORMATS.contains(&e.as_str()))
            .unwrap_or_else(|| {
                if options.iter().any(|(k, _)| k == "delimiter") {
                    "csv".into()
                } else {
                    "parquet".into()
                }
            }),
    };
    if !FORMATS.contains(&format.as_str()) {
        return Err(format!(
            "`format` '{format}' is not one kiln writes; it writes parquet, csv and json"
        ));
    }
    let location = match location {
        Some(location) => location,
        None => {
            let name = crate::file_name::safe_file_name(identifier);
            let root = external_root.trim_end_matches('/');
            let root = if root.is_empty() { "." } else { root };
            if partitioned {
                format!("{root}/{name}")
            } else {
                format!("{root}/{name}.{format}")
            }
        }
    };
    let mut copy: Vec<String> = Vec::new();
    for (name, value) in &options {
        let key = name.to_ascii_lowercase();
        let text = match value {
            Json::String(s) => s.clone(),
            Json::Array(items) if key == "partition_by" => format!(
                "({})",
                items
                    .iter()
                    .map(|c| c
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| c.to_string()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            other => other.to_string(),
        };
        let text = if key == "partition_by" && partition_columns.len() > 1 && !text.starts_with('(')
        {
            format!("({text})")
        } else {
            text
        };
        copy.push(if QUOTED_OPTIONS.contains(&key.as_str()) {
            format!("{name} '{}'", text.replace('\'', "''"))
        } else {
            format!("{name} {text}")
        });
    }
    copy.push(format!("format {format}"));
    if format == "csv"
        && !options
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("header"))
    {
        copy.push("header 1".into());
    }
    let glob = if partitioned {
        format!(
            "{location}/{}*.{format}",
            "*/".repeat(partition_columns.len())
        )
    } else {
        location.clone()
    };
    let read = read_expression(config, &format, &glob);
    Ok(ExternalFile {
        temp_location: temp_of(&location),
        location,
        format,
        copy_options: copy.join(", "),
        read,
        partitioned,
    })
}

/// The reader dbt-duckdb's view calls, with the model's `<format>_read_options`.
fn read_expression(config: &NodeConfig, format: &str, path: &str) -> String {
    let (function, default) = match format {
        "parquet" => ("read_parquet", "union_by_name=False"),
        "csv" => ("read_csv", "auto_detect=True"),
        _ => ("read_json", "auto_detect=True"),
    };
    let extra = match config.get(&format!("{format}_read_options")) {
        Some(Json::Object(map)) if !map.is_empty() => map
            .iter()
            .map(|(k, v)| match v {
                Json::String(s) => format!("{k}='{}'", s.replace('\'', "''")),
                other => format!("{k}={other}"),
            })
            .collect::<Vec<_>>()
            .join(", "),
        _ => default.to_string(),
    };
    format!("{function}('{}', {extra})", path.replace('\'', "''"))
}

/// The temporary path beside `location` the rows are written to first.
fn temp_of(location: &str) -> String {
    let trimmed = location.trim_end_matches('/');
    match trimmed.rsplit_once('/') {
        Some((folder, name)) => format!("{folder}/.{name}.kiln-tmp"),
        None => format!(".{trimmed}.kiln-tmp"),
    }
}

/// The file kiln leaves in a partition folder it wrote, so that it
/// replaces only folders of its own (the view's glob does not read it).
const MARKER: &str = ".kiln-external";

/// Makes the file's folder and clears what an interrupted run left at its
/// temporary path, before its rows are written. A remote location (`s3://`)
/// or one that is a folder kiln did not write is refused: kiln writes local
/// files, and replaces no folder of the user's.
pub fn prepare(file: &ExternalFile) -> std::io::Result<()> {
    let refuse = |message: String| std::io::Error::other(message);
    if file.location.contains("://") {
        return Err(refuse(format!(
            "{} is not a local path; kiln writes external models to local files only",
            file.location
        )));
    }
    let location = Path::new(&file.location);
    if location.is_dir() {
        let ours = location.join(MARKER).is_file() || only_partitions(location, true);
        if !file.partitioned || !ours {
            return Err(refuse(format!(
                "{} is a folder kiln did not write; it replaces only its own (remove it, or choose another `location`)",
                file.location
            )));
        }
    } else if file.partitioned && location.exists() {
        return Err(refuse(format!(
            "{} is a file; a partitioned model writes a folder there (remove it, or choose another `location`)",
            file.location
        )));
    }
    let temp = Path::new(&file.temp_location);
    if let Some(parent) = temp.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)?;
    }
    remove_any(temp)
}

/// A file (or folder) put in place by [`replace`], with the old one kept
/// aside until the node's transaction ends.
#[derive(Debug, Clone, PartialEq)]
pub struct Replaced {
    pub location: PathBuf,
    pub aside: Option<PathBuf>,
}

/// Whether a folder holds nothing but hive partitions (`status=shipped/`,
/// within them data files or more partitions; at its top only kiln's mark):
/// what dbt-duckdb (or an earlier kiln) wrote for a partitioned model, safe
/// to replace. An empty folder is too.
fn only_partitions(folder: &Path, top: bool) -> bool {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return false;
    };
    entries.flatten().all(|entry| {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if path.is_dir() {
            name.contains('=') && only_partitions(&path, false)
        } else if top {
            name == MARKER
        } else {
            path.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| FORMATS.contains(&e))
        }
    })
}

/// Puts the written rows in place of the old file or folder, which is kept
/// aside (renamed) for [`finish`] to drop or bring back.
pub fn replace(file: &ExternalFile) -> std::io::Result<Replaced> {
    let (temp, location) = (Path::new(&file.temp_location), Path::new(&file.location));
    if file.partitioned {
        std::fs::write(
            temp.join(MARKER),
            "written by kiln's external materialization\n",
        )?;
    }
    let aside = PathBuf::from(format!("{}.kiln-old", file.temp_location));
    remove_any(&aside)?;
    let kept = if location.exists() {
        std::fs::rename(location, &aside)?;
        Some(aside)
    } else {
        None
    };
    std::fs::rename(temp, location)?;
    Ok(Replaced {
        location: location.to_path_buf(),
        aside: kept,
    })
}

/// Ends a replacement with its node: committed, the old file is removed;
/// failed, the new one is removed and the old one put back, so that a model
/// that fails after its file was written (a post-hook, the commit) keeps
/// the file it had.
pub fn finish(replaced: &Replaced, committed: bool) -> std::io::Result<()> {
    match (&replaced.aside, committed) {
        (Some(aside), true) => remove_any(aside),
        (None, true) => Ok(()),
        (aside, false) => {
            remove_any(&replaced.location)?;
            match aside {
                Some(aside) => std::fs::rename(aside, &replaced.location),
                None => Ok(()),
            }
        }
    }
}

fn remove_any(path: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Err(_) => Ok(()),
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(yaml: &str) -> NodeConfig {
        NodeConfig(serde_yaml::from_str(yaml).unwrap())
    }

    #[test]
    fn a_model_without_a_location_is_a_parquet_file_under_the_root() {
        let file = plan(&config("{}"), "orders", "out").unwrap();
        assert_eq!(file.location, "out/orders.parquet");
        assert_eq!(file.temp_location, "out/.orders.parquet.kiln-tmp");
        assert_eq!(file.copy_options, "format parquet");
        assert_eq!(
            file.read,
            "read_parquet('out/orders.parquet', union_by_name=False)"
        );
    }

    #[test]
    fn the_format_comes_from_the_location_then_the_delimiter() {
        // As dbt-duckdb 1.10: a csv location with `delimiter: '|'`.
        let file = plan(&config("{location: out/x.csv, delimiter: '|'}"), "m", ".").unwrap();
        assert_eq!(file.format, "csv");
        assert_eq!(file.copy_options, "delimiter '|', format csv, header 1");
        assert_eq!(file.read, "read_csv('out/x.csv', auto_detect=True)");
        let file = plan(&config("{delimiter: ';'}"), "m", "out").unwrap();
        assert_eq!(file.location, "out/m.csv");
        let file = plan(&config("{format: json}"), "m", "out").unwrap();
        assert_eq!(file.location, "out/m.json");
        assert_eq!(file.read, "read_json('out/m.json', auto_detect=True)");
        assert!(plan(&config("{format: xlsx}"), "m", "out").is_err());
    }

    #[test]
    fn partitions_are_a_folder_read_through_a_glob() {
        let file = plan(&config("{options: {partition_by: 'cat, sub'}}"), "m", "out").unwrap();
        assert_eq!(file.location, "out/m");
        assert_eq!(file.copy_options, "partition_by (cat, sub), format parquet");
        assert_eq!(
            file.read,
            "read_parquet('out/m/*/*/*.parquet', union_by_name=False)"
        );
        let file = plan(&config("{options: {partition_by: [cat]}}"), "m", "out").unwrap();
        assert_eq!(file.copy_options, "partition_by (cat), format parquet");
        assert!(file.partitioned);
        // dbt-duckdb 1.10 reads `partition_by` only in `options` (the
        // adapter warns of a top-level one).
        let file = plan(&config("{partition_by: cat}"), "m", "out").unwrap();
        assert!(!file.partitioned);
        assert_eq!(file.location, "out/m.parquet");
    }

    #[test]
    fn a_folder_kiln_did_not_write_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        std::fs::write(data.join("raw.csv"), "id\n1\n").unwrap();
        let location = data.display().to_string();
        for yaml in [
            format!("{{location: '{location}'}}"),
            format!("{{location: '{location}', options: {{partition_by: id}}}}"),
        ] {
            let file = plan(&config(&yaml), "m", ".").unwrap();
            assert!(prepare(&file).is_err(), "{yaml}");
        }
        assert!(data.join("raw.csv").is_file());
        // A folder of hive partitions dbt-duckdb wrote is replaced.
        let dbt_wrote = dir.path().join("by_status");
        std::fs::create_dir_all(dbt_wrote.join("status=x")).unwrap();
        std::fs::write(dbt_wrote.join("status=x/data_0.parquet"), "").unwrap();
        let yaml = format!(
            "{{location: '{}', options: {{partition_by: status}}}}",
            dbt_wrote.display()
        );
        assert!(prepare(&plan(&config(&yaml), "m", ".").unwrap()).is_ok());
        let remote = plan(&config("{location: 's3://bucket/x.parquet'}"), "m", ".").unwrap();
        assert!(prepare(&remote).is_err());
    }

    #[test]
    fn a_name_cannot_lead_the_default_location_out_of_the_root() {
        let file = plan(&config("{}"), "../../etc/x", "out").unwrap();
        assert_eq!(file.location, "out/.._.._etc_x.parquet");
    }
}
