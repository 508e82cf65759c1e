//! Kernel names -> ggml ops, where the name allows it.
//!
//! CUDA names are C++ signatures (`void mul_mat_q<(ggml_type)12, 128,
//! false>(char const*, ...)`); Metal pipelines are `kernel_mul_mm_q4_K_f32`.
//! The base name (no return type, template arguments, parameters, scope or
//! `kernel_` prefix) is matched against llama.cpp's kernel families, the
//! most specific first; the binary-op template `k_bin_bcast<op_add, ...>`
//! is told apart by its template argument; the gated unary kernels
//! (`unary_gated_op_kernel<&op_silu, ..>`) are GLU. Anything else (cuBLAS/CUTLASS
//! GEMMs are taken as MUL_MAT, dequantize/convert kernels are not guessed)
//! maps to None.

/// (prefix of the base name, op), most specific first.
const FAMILIES: [(&str, &str); 31] = [
    ("mul_mat_id", "MUL_MAT_ID"),
    ("mul_mm_id", "MUL_MAT_ID"),
    ("mul_mv_id", "MUL_MAT_ID"),
    ("mul_mat", "MUL_MAT"),
    ("mul_mm", "MUL_MAT"),
    ("mul_mv", "MUL_MAT"),
    ("quantize_mmq", "MUL_MAT"),
    ("quantize_q8_1", "MUL_MAT"),
    ("flash_attn", "FLASH_ATTN_EXT"),
    ("rms_norm", "RMS_NORM"),
    ("group_norm", "GROUP_NORM"),
    ("l2_norm", "L2_NORM"),
    ("norm", "NORM"),
    ("soft_max", "SOFT_MAX"),
    ("rope", "ROPE"),
    ("get_rows", "GET_ROWS"),
    ("k_get_rows", "GET_ROWS"),
    ("set_rows", "SET_ROWS"),
    ("k_set_rows", "SET_ROWS"),
    ("cpy", "CPY"),
    // CUDA's gated unary kernels (`unary_gated_op_kernel<&op_silu, ..>`) are
    // ggml's GLU op (SWIGLU, GEGLU, REGLU as its mode), not a plain unary.
    ("unary_gated", "GLU"),
    ("swiglu", "GLU"),
    ("geglu", "GLU"),
    ("glu", "GLU"),
    ("scale", "SCALE"),
    ("concat", "CONCAT"),
    ("argsort", "ARGSORT"),
    ("topk_moe", "TOPK_MOE (fused)"),
    ("sum_rows", "SUM_ROWS"),
    ("im2col", "IM2COL"),
    ("ssm_scan", "SSM_SCAN"),
];

const BINARY_OPS: [(&str, &str); 4] = [
    ("op_add", "ADD"),
    ("op_sub", "SUB"),
    ("op_mul", "MUL"),
    ("op_div", "DIV"),
];

/// The identifier of a kernel name: `void ns::foo<...>(...)` -> `foo`.
pub fn base_name(name: &str) -> &str {
    let end = name.find(['<', '(']).unwrap_or(name.len());
    let head = name[..end].trim();
    let ident = head.rsplit(' ').next().unwrap_or(head);
    let ident = ident.rsplit("::").next().unwrap_or(ident);
    ident.strip_prefix("kernel_").unwrap_or(ident)
}

/// The ggml op a kernel name stands for, when it can be told.
pub fn ggml_op(name: &str) -> Option<&'static str> {
    let base = base_name(name).to_lowercase();
    if base.starts_with("k_bin_bcast") || base == "add" || base == "mul" {
        return BINARY_OPS
            .iter()
            .find(|(t, _)| name.contains(t))
            .map(|(_, op)| *op)
            .or(match base.as_str() {
                "add" => Some("ADD"),
                "mul" => Some("MUL"),
                _ => None,
            });
    }
    if let Some((_, op)) = FAMILIES.iter().find(|(p, _)| base.starts_with(p)) {
        return Some(op);
    }
    let gemm = ["gemm", "gemv", "cutlass", "xmma", "cublas"];
    gemm.iter().any(|g| base.contains(g)).then_some("MUL_MAT")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuda_signatures_and_metal_pipelines_map_to_ops() {
        let cases = [
            ("void mul_mat_q<(ggml_type)12, 128, false>(char const*, int const*, float*)", Some("MUL_MAT")),
            ("void mul_mat_vec_q<(ggml_type)12, 1, false>(void const*, void const*, float*)", Some("MUL_MAT")),
            ("void flash_attn_ext_f16<128, 128, 4, 8, 8, 1, 0>(char const*, ...)", Some("FLASH_ATTN_EXT")),
            ("void rms_norm_f32<1024, true, false>(float const*, float*, int)", Some("RMS_NORM")),
            ("void k_bin_bcast<&op_add, float, float, float>(float const*, float const*, float*)", Some("ADD")),
            ("void k_bin_bcast<&op_mul, float, float, float>(float const*, float const*, float*)", Some("MUL")),
            ("void rope_neox<true, float>(float const*, float*, int)", Some("ROPE")),
            ("void soft_max_f32<true, 0, 0>(float const*, float const*, float*)", Some("SOFT_MAX")),
            ("void quantize_mmq_q8_1<(mmq_q8_1_ds_layout)1>(float const*, void*, long)", Some("MUL_MAT")),
            ("sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize128x128x64", Some("MUL_MAT")),
            ("kernel_mul_mm_q4_K_f32", Some("MUL_MAT")),
            ("kernel_mul_mv_id_q4_K_f32", Some("MUL_MAT_ID")),
            ("kernel_rms_norm_fuse_impl", Some("RMS_NORM")),
            ("void convert_unary<__half, float>(void const*, float*, long)", None),
            ("void k_get_rows_float<float, float>(float const*, int const*, float*)", Some("GET_ROWS")),
            ("void unary_gated_op_kernel<&op_silu, float>(float const*, float const*, float*, long, long, long, long)", Some("GLU")),
            ("void unary_gated_op_kernel<&op_gelu, __half>(__half const*, __half const*, __half*, long, long, long, long)", Some("GLU")),
            ("kernel_swiglu_f32", Some("GLU")),
        ];
        for (name, op) in cases {
            assert_eq!(ggml_op(name), op, "{name}");
        }
    }

    #[test]
    fn base_name_strips_type_scope_template_and_prefix() {
        assert_eq!(base_name("void ns::inner::foo<1>(int)"), "foo");
        assert_eq!(base_name("kernel_soft_max_f32"), "soft_max_f32");
        assert_eq!(base_name("bare"), "bare");
    }
}
