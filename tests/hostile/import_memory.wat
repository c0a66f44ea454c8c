;; Hostile: imports its memory instead of defining it (a host-shared memory
;; would escape the per-instance cap).
(module
  (import "env" "memory" (memory 1))
  (export "memory" (memory 0))
  (func (export "abi_version") (result i32) (i32.const 4))
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "free") (param i32 i32))
  (func (export "call") (param i32 i32) (result i64) (i64.const 0)))
