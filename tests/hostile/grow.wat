;; Hostile: `call` grows memory 1 MiB at a time forever, ignoring the -1 that
;; memory.grow returns on failure. The host's memory cap must end it with
;; SandboxError::Memory (not a deadline, not a host out-of-memory).
(module
  (memory (export "memory") 1)
  (func (export "abi_version") (result i32) (i32.const 4))
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "free") (param i32 i32))
  (func (export "call") (param i32 i32) (result i64)
    (loop $more
      (drop (memory.grow (i32.const 16)))
      (br $more))
    (i64.const 0)))
