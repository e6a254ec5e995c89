"""cffi (API mode) build script for the reflow MPSC ring.

setup.py names ``ffibuilder`` in ``cffi_modules``; running this file directly
compiles ``_reflow_queue`` into the package for quick local checks.
"""

from __future__ import annotations

from pathlib import Path

from cffi import FFI

_HERE = Path(__file__).resolve().parent

# Keep in step with queue.h.  "..." lets cffi take the macro's value from C.
_CDEF = """
#define RQ_MAX_CAPACITY ...
typedef struct rq rq_t;
rq_t *rq_new(uint32_t capacity);
void rq_free(rq_t *q);
int rq_try_push(rq_t *q, uint32_t slot);
uint32_t rq_push_many(rq_t *q, const uint32_t *slots, uint32_t n);
uint32_t rq_pop_many(rq_t *q, uint32_t *out, uint32_t n);
int32_t rq_pop(rq_t *q);
uint32_t rq_len(rq_t *q);
uint32_t rq_capacity(const rq_t *q);
"""

# cffi's generated wrappers release the GIL around every C call. Our calls take
# tens of nanoseconds and never block, and releasing the GIL hands it to any
# other busy Python thread (a threaded actor, an event reader) for up to the
# switch interval, so a queue call could cost milliseconds (measured: a chain
# ran 38x slower beside one busy thread). The wrappers come after this source
# in the generated C file, so redefining the two macros here keeps the GIL held
# for the calls of this module only.
_KEEP_THE_GIL = """
#undef Py_BEGIN_ALLOW_THREADS
#undef Py_END_ALLOW_THREADS
#define Py_BEGIN_ALLOW_THREADS {
#define Py_END_ALLOW_THREADS }
"""

ffibuilder = FFI()
ffibuilder.cdef(_CDEF)
# The ring's source is compiled into the generated module itself, so the build
# needs no separate source path (which setuptools wants relative) and the
# extension is a single shared object.
ffibuilder.set_source(
    "reflow_cli.native._reflow_queue",
    (_HERE / "queue.c").read_text(encoding="utf-8") + _KEEP_THE_GIL,
    include_dirs=[str(_HERE)],
    extra_compile_args=["-O2", "-std=c11"],
)

if __name__ == "__main__":
    # Build in a scratch directory and copy only the shared object into the
    # package, so no generated .c/.o files end up next to the sources.
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        built = Path(ffibuilder.compile(tmpdir=tmp, verbose=True))
        # Drop older builds (e.g. the .abi3.so of `pip install -e`): Python
        # would load whichever suffix it tries first, possibly a stale one.
        for old in _HERE.glob("_reflow_queue.*"):
            if old.suffix in (".so", ".pyd"):
                old.unlink()
        shutil.copy(built, _HERE)
