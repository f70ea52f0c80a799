#!/usr/bin/env python3
"""Checks that each layer of src/ includes only the layers it may use (src/README.md).

A layer is a folder of src/ (one static library each). It may include the layers listed
before it in LAYERS, minus those in FORBIDDEN (agent and vault never include each other;
the vault never stands on the site's pipelines; the shared CLI layer knows neither
binary). The CMake link lines say the same for the linker; this check catches an include
that would compile only because every layer sees src/ on its include path.

  scripts/check-layers.py            check src/ (exit 1 and one line per violation)
  scripts/check-layers.py --self-test  prove the check finds violations (CTest runs both)
"""
import os
import re
import sys
import tempfile

# Lowest first. `kura` is include/kura/, the public headers every layer may use.
LAYERS = [
    "util", "crypto", "chunker", "objstore", "repo", "net", "sources", "engine", "agent",
    "vault", "cli_common", "cli", "vault_cli", "main",
]
FORBIDDEN = {
    "agent": {"vault"},
    "vault": {"sources", "engine", "agent"},
    "cli_common": {"crypto", "chunker", "objstore", "repo", "net", "sources", "engine", "agent", "vault"},
    "cli": {"vault"},
    "vault_cli": {"sources", "engine", "agent", "cli"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s*"([a-z_]+)/')
# Layers below the command lines name advice (Status::WithAdvice), never a kura command.
NO_COMMAND_ADVICE = {"util", "crypto", "chunker", "objstore", "repo", "net", "sources", "engine", "vault"}
COMMAND = re.compile(r'"[^"]*\bkura (init|verify|prune|snapshots|ls|backup|restore|forget|key|status|send|drill|run|agent)\b')


def allowed(layer):
    below = LAYERS[: LAYERS.index(layer) + 1]
    return ({"kura"} | set(below)) - FORBIDDEN.get(layer, set())


def check(src):
    problems = []
    for layer in sorted(os.listdir(src)):
        folder = os.path.join(src, layer)
        if not os.path.isdir(folder):
            continue
        if layer not in LAYERS:
            problems.append(f"src/{layer}/: not a known layer; add it to scripts/check-layers.py and src/README.md")
            continue
        ok = allowed(layer)
        for name in sorted(os.listdir(folder)):
            if not name.endswith((".h", ".cc")):
                continue
            with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as f:
                for number, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if m and m.group(1) not in ok:
                        problems.append(f"src/{layer}/{name}:{number}: layer {layer} may not include {m.group(1)}/")
                    code = line.split("//", 1)[0] if not line.lstrip().startswith('"') else line
                    c = COMMAND.search(code)
                    if layer in NO_COMMAND_ADVICE and c:
                        problems.append(f"src/{layer}/{name}:{number}: a message names the command "
                                        f"'kura {c.group(1)}'; attach an Advice instead (include/kura/status.h)")
    return problems


def self_test():
    with tempfile.TemporaryDirectory() as root:
        def write(path, text):
            os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
            with open(os.path.join(root, path), "w") as f:
                f.write(text)
        write("repo/a.cc", '#include "util/x.h"\n#include "kura/status.h"\n')
        write("agent/b.cc", '#include "engine/backup.h"\n')
        clean = check(root)
        assert clean == [], clean
        write("util/c.h", '#include "repo/pack.h"\n')         # upward
        write("agent/d.cc", '  #  include "vault/catalog.h"\n')  # agent -> vault
        write("vault/e.cc", '#include "engine/backup.h"\n')    # vault -> engine
        write("cli_common/f.cc", '#include "repo/pack.h"\n')   # shared CLI knows no engine layer
        write("mystery/g.cc", "\n")
        write("repo/h.cc", '  return Status::NotFound(Tr("x", "run kura verify --read-data"));\n')
        write("repo/i.cc", '// comments may name kura verify\n')
        found = check(root)
        expect = ["agent/d.cc:1", "cli_common/f.cc:1", "mystery/", "repo/h.cc:1", "util/c.h:1", "vault/e.cc:1"]
        for e in expect:
            assert any(e in p for p in found), (e, found)
        assert len(found) == len(expect), found
    print("check-layers self-test passed")
    return 0


def main():
    if "--self-test" in sys.argv[1:]:
        return self_test()
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
    problems = check(src)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"kura: {len(problems)} line(s) break the layer rules (src/README.md, CONTRIBUTING.md)", file=sys.stderr)
        return 1
    print("kura: every layer includes only the layers below it, and no lower layer words a kura command")
    return 0


if __name__ == "__main__":
    sys.exit(main())
