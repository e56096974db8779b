"""llama.cpp's own OpenAI-compatible server (`llama_cpp.server`, from llama-cpp-python's
`server` extra), started the way this product loads llama.cpp models:

    python -m llm.testing.llama_server --model <gguf> --port 8081   # its own arguments

The one difference from `python -m llama_cpp.server` is `prepare_llama_cpp()`: without
it the server segfaults on its first completion on the AMX Xeon machines this project
runs on, as the in-process model did, and its threads spin on busy cores (see
llm.providers.local).
"""

import runpy
import sys


def main() -> None:
    from llm.providers.local import prepare_llama_cpp

    prepare_llama_cpp()
    sys.argv[0] = "llama_cpp.server"
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
