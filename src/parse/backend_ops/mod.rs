//! `test-backend-ops perf` output, in either of its forms: [`sql`]
//! (`--output sql`) and [`console`] (older builds, saved terminal logs).
//! Pure parsers into [`crate::model::OpResult`].

pub mod console;
pub mod sql;

use crate::model::OpResult;

/// Parse failure of `test-backend-ops` output.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OpsParseError {
    #[error("{source_name}: no test-backend-ops perf results found (neither 'INSERT INTO test_backend_ops' lines nor '... runs - ... us/run' lines); run 'test-backend-ops perf --output sql'")]
    Empty { source_name: String },
    #[error("{source_name}: line {line}: {why}")]
    Line {
        source_name: String,
        line: usize,
        why: String,
    },
}

/// Parses `test-backend-ops perf` output in either form (SQL first).
pub fn parse_output(source_name: &str, text: &str) -> Result<Vec<OpResult>, OpsParseError> {
    if sql::looks_like_sql(text) {
        sql::parse_sql(source_name, text)
    } else {
        console::parse_console(source_name, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = format!(
            "{}/fixtures/test-backend-ops/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn sql_with_allocation_noise_reads_every_case() {
        let rows = parse_output("f", &fixture("cpu_sql_alloc_noise.sql")).unwrap();
        assert_eq!(rows.len(), 3);
        let add = &rows[0];
        assert_eq!(add.backend, "CPU");
        assert_eq!(add.op, "ADD");
        assert_eq!(add.params, "type=f32,ne=[4096,1024,1,1],nr=[1,1,1,1],nf=1");
        assert_eq!(add.time_us, 1234.567);
        assert_eq!(add.bandwidth_gb_s, 37.941234);
        assert_eq!(add.memory_kb, 49152);
        assert_eq!(add.n_runs, 1366);
        assert_eq!(add.build_commit, "0c1e570");
        assert!(add.device.starts_with("Intel(R) Xeon(R) Platinum 8481C"));
        // The line the stderr message landed in is read whole.
        let mm = &rows[1];
        assert_eq!(mm.op, "MUL_MAT");
        assert_eq!(mm.time_us, 81203.125);
        assert_eq!(mm.flops, 211542103652.0);
        assert!(!rows[2].supported);
        assert_eq!(rows[2].error, "not supported");
        assert_eq!(rows[2].usable_time(), None);
    }

    #[test]
    fn console_with_ansi_codes_reads_the_same_cases() {
        let rows = parse_output("f", &fixture("cpu_console_ansi.txt")).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].backend, "CPU");
        assert_eq!(rows[0].op, "ADD");
        assert_eq!(rows[0].time_us, 1234.57);
        assert_eq!(rows[0].bandwidth_gb_s, 37.94);
        assert_eq!(rows[0].memory_kb, 49152);
        assert_eq!(rows[0].n_runs, 1366);
        assert_eq!(rows[1].flops, 211.54e9);
        assert_eq!(rows[1].time_us, 81203.13);
        assert_eq!(rows[1].n_runs, 3);
        assert!(rows[1].params.ends_with("per=[0,1,2,3],k_v=0,o=1"));
        assert!(!rows[2].supported);
        assert_eq!(rows[2].op, "FLASH_ATTN_EXT");
        assert_eq!(rows[0].device, rows[1].device);
    }

    #[test]
    fn sql_and_console_match_on_the_same_keys() {
        let a = parse_output("a", &fixture("cpu_sql_alloc_noise.sql")).unwrap();
        let b = parse_output("b", &fixture("cpu_console_ansi.txt")).unwrap();
        let keys = |v: &[OpResult]| v.iter().map(OpResult::key).collect::<Vec<_>>();
        assert_eq!(keys(&a), keys(&b));
    }

    /// Recorded from the pinned 0c1e570 CPU build: `test-backend-ops perf -b CPU
    /// --output sql -o ADD -p 'ne=\[4096'` and the same in console form.
    #[test]
    fn real_recordings_of_0c1e570_read_with_exact_values() {
        let sql = parse_output("s", &fixture("cpu_0c1e570_add.sql")).unwrap();
        let con = parse_output("c", &fixture("cpu_0c1e570_add_console.txt")).unwrap();
        assert_eq!(sql.len(), 2);
        assert_eq!(
            sql[0].params,
            "type=f32,ne=[4096,1,1,1],nr=[1,1,1,1],nf=1,perm1=0,src_overlap=0"
        );
        assert_eq!(sql[0].time_us, 1.574948);
        assert_eq!(sql[0].build_commit, "unknown");
        assert_eq!(sql[1].memory_kb, 24576);
        assert_eq!(sql[1].n_runs, 684);
        assert_eq!(con[0].key(), sql[0].key());
        assert_eq!(con[1].key(), sql[1].key());
        assert_eq!(
            (con[0].n_runs, con[0].time_us, con[0].bandwidth_gb_s),
            (696150, 1.46, 31.38)
        );
        assert_eq!(con[1].device, "Intel(R) Xeon(R) Processor");
    }

    #[test]
    fn a_cut_sql_line_is_an_error_naming_the_line() {
        let text =
            "INSERT INTO test_backend_ops (op_name, op_params, backend_name) VALUES ('ADD', 'x";
        let e = parse_output("cut.sql", text).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cut.sql: line 1: a quoted value is not closed: the line is cut"
        );
    }

    #[test]
    fn a_column_count_mismatch_is_an_error() {
        let text = "INSERT INTO test_backend_ops (op_name, op_params) VALUES ('ADD', 'a', 'b');";
        let e = parse_output("x", text).unwrap_err().to_string();
        assert!(e.contains("2 columns but 3 values"), "{e}");
    }

    #[test]
    fn sql_quotes_doubled_are_one_quote_and_other_modes_are_skipped() {
        let text = "INSERT INTO test_backend_ops (backend_name, op_name, op_params, test_mode, supported, time_us) VALUES ('CPU', 'ADD', 'a=''b''', 'perf', '1', '2.5');\n\
                    INSERT INTO test_backend_ops (backend_name, op_name, op_params, test_mode, supported, time_us) VALUES ('CPU', 'ADD', 'a', 'test', '1', '0');\n";
        let rows = parse_output("x", text).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].params, "a='b'");
        assert_eq!(rows[0].time_us, 2.5);
    }

    #[test]
    fn no_results_is_an_error_saying_what_to_run() {
        let e = parse_output("empty.txt", "Testing 1 devices\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("empty.txt: no test-backend-ops perf results"),
            "{e}"
        );
        assert!(e.contains("--output sql"));
    }

    #[test]
    fn an_unknown_console_rate_is_an_error() {
        let text = "  ADD(x):     5 runs -   1.00 us/run - 3 widgets\n";
        let e = parse_output("c", text).unwrap_err().to_string();
        assert!(e.contains("unknown rate '3 widgets'"), "{e}");
    }
}
