;; Hostile: grows a table by a million elements at a time. Table elements live
;; in host memory outside the linear-memory cap, so the host caps them too.
(module
  (memory (export "memory") 1)
  (table $t 0 funcref)
  (func (export "abi_version") (result i32) (i32.const 4))
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "free") (param i32 i32))
  (func (export "call") (param i32 i32) (result i64)
    (loop $more
      (drop (table.grow $t (ref.null func) (i32.const 1048576)))
      (br $more))
    (i64.const 0)))
