//! `nsys stats --report cuda_gpu_kern_sum --format csv`: a preamble
//! (`Generating SQLite file ...`, `Processing [...] with [...]`), then the
//! header `Time (%),Total Time (ns),Instances,Avg (ns),Med (ns),Min (ns),
//! Max (ns),StdDev (ns),Name` and one row per kernel; names are quoted (they
//! hold commas). Run nsys with `--cuda-graph-trace=node`, since llama.cpp
//! launches CUDA graphs and the kernels would otherwise hide inside them.

use std::collections::BTreeMap;

use super::{bad, summarize, CsvTable, KernelSummary, ProfileError};

pub fn parse(source_name: &str, text: &str) -> Result<KernelSummary, ProfileError> {
    let table = CsvTable::read(
        source_name,
        text,
        |l| l.contains("Total Time (ns)") && l.contains("Name"),
        "no 'Total Time (ns)' header: not a cuda_gpu_kern_sum CSV",
    )?;
    let col = |n: &str| table.col(source_name, n);
    let (total, count, name) = (col("Total Time (ns)")?, col("Instances")?, col("Name")?);
    let mut per = BTreeMap::new();
    for (i, rec) in table.rows.into_iter().enumerate() {
        let rec = rec.map_err(|e| bad(source_name, e.to_string()))?;
        if rec.len() <= name.max(total).max(count) {
            continue;
        }
        let num = |k: usize| rec[k].replace(',', "").trim().parse::<f64>();
        let (t, n) = match (num(total), num(count)) {
            (Ok(t), Ok(n)) => (t, n as u64),
            _ => {
                return Err(bad(
                    source_name,
                    format!(
                        "row {}: '{}' / '{}' are not numbers",
                        i + 1,
                        &rec[total],
                        &rec[count]
                    ),
                ))
            }
        };
        let e = per.entry(rec[name].to_string()).or_insert((0, 0.0));
        e.0 += n;
        e.1 += t;
    }
    if per.is_empty() {
        return Err(bad(
            source_name,
            "the cuda_gpu_kern_sum report has no kernel rows",
        ));
    }
    Ok(summarize("nsys", per))
}
