;; Hostile: call returns -1: pointer and length both u32::MAX. Past any
;; reply cap, and outside memory when the cap is lifted.
(module
  (memory (export "memory") 1)
  (func (export "abi_version") (result i32) (i32.const 4))
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "free") (param i32 i32))
  (func (export "call") (param i32 i32) (result i64)
    (i64.const -1)))
