;; Hostile: unbounded recursion; the host's wasm stack limit turns it into a
;; stack-overflow trap instead of overflowing the host's stack.
(module
  (memory (export "memory") 1)
  (func (export "abi_version") (result i32) (i32.const 4))
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "free") (param i32 i32))
  (func $call (export "call") (param i32 i32) (result i64)
    (call $call (local.get 0) (local.get 1))))
