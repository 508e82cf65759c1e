//! The key of a llama-bench result (placeholder, filled in below).
