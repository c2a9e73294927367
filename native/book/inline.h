// Inlining hints for the books' hot paths: the per-event fast path inlined into apply(), slow paths
// (growth, rebase, spills) kept out of line so the fast path stays small.
#pragma once
#define CMM_ALWAYS_INLINE __attribute__((always_inline)) inline
#define CMM_NOINLINE __attribute__((noinline))
