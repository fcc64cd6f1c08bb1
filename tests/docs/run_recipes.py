#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs the recipes of the documentation, so that the words cannot drift from the code.

Every fenced block of a Markdown file whose info string starts with sh, console, python, js, c
or cpp is a recipe; `text` blocks (fstab lines, layouts, output shown alone) are not run. A
second word in the info string names a group (```sh install```): such blocks run only when that
group is asked for (the install test asks for `install`, after it has installed fieldfs).
In a man page, an `.nf`/`.fi` block right after a `.\\" recipe: sh` comment is a recipe.

Each file runs on its own, top to bottom, in one dash shell inside fresh mount and PID
namespaces: /dev/shm, /mnt, /tmp and /run are empty tmpfs mounts there, and /etc and
/usr/local overlays whose changes stay in the namespace, so recipes may use the fixed names the
documentation uses (such_foo, /mnt/foo, /etc/fstab, an install under /usr/local) without
touching the machine, and every daemon they start dies with the namespace. The working
directory is the source tree (read-only use: `examples/every_kind.h`), and the build directory
is first in PATH.

- sh: the block must succeed (it runs under `set -e`).
- console: `$ CMD` lines run one by one (a `> ` line continues the command); the lines after
  each are its expected output, standard output and error together. A line `...` matches any
  number of lines, and `...` inside a line matches any text. The exit status is not checked.
- python, js: the block runs with python3 or node and must exit 0.
- c, cpp: the block is a whole program; it is compiled (against include/, and cpp against the
  core library) and run, and must exit 0. A block without main() is a declaration: it must compile.
- An HTML comment `<!-- recipe-setup ... -->` holds sh lines that run, unseen, at that point.
"""
import argparse
import os
import re
import select
import subprocess
import sys
import tempfile

RUNNABLE = {"sh", "console", "python", "js", "c", "cpp"}
HIDDEN = ("/dev/shm", "/mnt", "/tmp", "/run")  # empty tmpfs mounts inside the namespace
CXXFLAGS = ""  # --cxxflags: what the core library was built with (a sanitizer build's flags)
END = "@@recipe-end@@"


class Block:
    def __init__(self, path, line, lang, group, text):
        self.path, self.line, self.lang, self.group, self.text = path, line, lang, group, text

    def where(self):
        return f"{self.path}:{self.line}"


def markdown_blocks(path, text):
    blocks = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip().startswith("<!-- recipe-setup"):
            start = i
            body = []
            i += 1
            while i < len(lines) and lines[i].strip() != "-->":
                body.append(lines[i])
                i += 1
            blocks.append(Block(path, start + 1, "sh", "", "\n".join(body)))
        m = re.match(r"^(\s*)```(\S*)\s*(\S*)", line)
        if m:
            indent, lang, group = m.group(1), m.group(2), m.group(3)
            start = i
            body = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
                i += 1
            if lang in RUNNABLE:
                blocks.append(Block(path, start + 1, lang, group, "\n".join(body)))
        i += 1
    return blocks


def unroff(line):
    for a, b in (("\\-", "-"), ("\\e", "\\"), ("\\(aq", "'"), ("\\(dq", '"'), ("\\&", ""),
                 ("\\|", ""), ("\\ ", " ")):
        line = line.replace(a, b)
    return line


def man_blocks(path, text):
    blocks = []
    lines = text.split("\n")
    for i, line in enumerate(lines):
        m = re.match(r'^\.\\"\s*recipe:\s*(\S+)\s*(\S*)', line)
        if not m:
            continue
        j = i + 1
        while j < len(lines) and lines[j].strip() != ".nf":
            j += 1
        body = []
        j += 1
        while j < len(lines) and lines[j].strip() != ".fi":
            body.append(unroff(lines[j]))
            j += 1
        blocks.append(Block(path, i + 1, m.group(1), m.group(2), "\n".join(body)))
    return blocks


def blocks_of(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if re.search(r"\.\d$", path):
        return man_blocks(path, text)
    return markdown_blocks(path, text)


class Shell:
    """One dash shell in fresh mount and PID namespaces, fed step by step."""

    def __init__(self, source, build, stage):
        # The source and build trees keep their own paths (a build directory records them)
        # unless a tmpfs below would hide them; then they are bound under `stage` first.
        binds, paths = [], {}
        for name, path in (("src", source), ("bin", build)):
            if any(path == d or path.startswith(d + "/") for d in HIDDEN):
                binds.append(f"mkdir -p {stage}/{name} && mount --bind {path} {stage}/{name}")
                path = f"{stage}/{name}"
            paths[name] = path
        setup = "set -e\nmount --make-rprivate /\n" + "\n".join(binds) + f"""
for d in {" ".join(HIDDEN)}; do
  mount -t tmpfs -o mode=1777 tmpfs "$d"
done
for d in /etc /usr/local; do  # writable here, untouched outside: an overlay on a tmpfs
  mkdir -p "/run/.overlay$d/upper" "/run/.overlay$d/work"
  mount -t overlay overlay -o "lowerdir=$d,upperdir=/run/.overlay$d/upper,workdir=/run/.overlay$d/work" "$d"
done
cd {paths["src"]}
export PATH="{paths["bin"]}:$PATH" RECIPE_SOURCE="{paths["src"]}" RECIPE_BUILD="{paths["bin"]}"
exec 2>&1
set +e
exec dash -s
"""
        self.proc = subprocess.Popen(
            ["unshare", "--mount", "--pid", "--fork", "--mount-proc", "sh", "-c", setup],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, bufsize=1)
        self.pending = ""

    def run(self, script, timeout=60):
        """Runs `script`; returns (status, output), status None if the shell died."""
        self.proc.stdin.write(script + f"\necho '{END}' $?\n")
        self.proc.stdin.flush()
        fd = self.proc.stdout.fileno()
        while f"{END} " not in self.pending or not self.pending.endswith("\n"):
            ready, _, _ = select.select([fd], [], [], timeout)
            chunk = os.read(fd, 65536).decode(errors="replace") if ready else ""
            if not chunk:
                why = "" if ready else f"\n(timed out after {timeout} s)"
                out, self.pending = self.pending, ""
                return None, out + why
            self.pending += chunk
        at = self.pending.index(f"{END} ")
        end = self.pending.index("\n", at)
        out, status = self.pending[:at], int(self.pending[at + len(END) + 1:end])
        self.pending = self.pending[end + 1:]
        return status, out

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def heredoc(command, text, tag="@@RECIPE@@"):
    return f"{command} <<'{tag}'\n{text}\n{tag}"


def console_steps(block):
    """(command, expected lines) pairs of a console block."""
    steps = []
    for line in block.text.split("\n"):
        if line.startswith("$ "):
            steps.append([line[2:], []])
        elif line.startswith("> ") and steps and not steps[-1][1]:
            steps[-1][0] += "\n" + line[2:]
        elif steps:
            steps[-1][1].append(line)
    for s in steps:
        while s[1] and not s[1][-1].strip():
            s[1].pop()
    return steps


def line_matches(pattern, line):
    parts = [re.escape(p) for p in pattern.split("...")]
    return re.fullmatch(".*".join(parts), line) is not None


def output_matches(expected, actual):
    if not expected:
        return not actual
    head = expected[0]
    if head == "...":
        return any(output_matches(expected[1:], actual[i:]) for i in range(len(actual) + 1))
    return bool(actual) and line_matches(head.rstrip(), actual[0].rstrip()) and \
        output_matches(expected[1:], actual[1:])


def step_scripts(block, scratch, index):
    """What to feed the shell for one block: a list of (script, expected lines or None)."""
    if block.lang == "sh":
        return [(f"set -e\n{block.text}\nset +e", None)]
    if block.lang == "console":
        return [(cmd, expected) for cmd, expected in console_steps(block)]
    if block.lang == "python":
        return [(heredoc("python3 -", block.text), None)]
    if block.lang == "js":
        return [(heredoc("node -", block.text), None)]
    src = os.path.join(scratch, f"recipe{index}.{block.lang}")
    exe = os.path.join(scratch, f"recipe{index}")
    if block.lang == "c":
        build = f"cc -std=c11 -Wall -Werror -I\"$RECIPE_SOURCE/include\" -o {exe} {src}"
    else:
        build = (f"c++ -std=c++20 -Wall -Werror {CXXFLAGS} -I\"$RECIPE_SOURCE/include\" -o {exe} "
                 f"{src} \"$RECIPE_BUILD/libfieldfs_core.a\"")
    if "main(" not in block.text:  # a declaration shown alone: it must compile
        return [(heredoc(f"cat > {src}", block.text) + f"\n{build.replace(f'-o {exe}', '-c -o /dev/null')}", None)]
    return [(heredoc(f"cat > {src}", block.text) + f"\n{build} && {exe}", None)]


def run_file(path, group, source, build, timeout):
    blocks = [b for b in blocks_of(path) if b.group == group]
    if not blocks:
        return 0, 0
    failures = 0
    stage = tempfile.mkdtemp(prefix="fieldfs-recipes.", dir="/var/tmp")
    shell = Shell(source, build, stage)
    try:
        for n, block in enumerate(blocks):
            for script, expected in step_scripts(block, "/tmp", n):
                status, output = shell.run(script, timeout)
                actual = output.rstrip("\n").split("\n") if output.strip() else []
                if expected is None:
                    ok = status == 0
                else:
                    ok = status is not None and output_matches(expected, actual)
                if not ok:
                    failures += 1
                    print(f"FAIL {block.where()} ({block.lang}): {script.splitlines()[0]}")
                    if expected is not None:
                        print("  expected:\n    " + "\n    ".join(expected))
                    print(f"  status {status}, output:\n    " + "\n    ".join(actual))
                if status is None:
                    return len(blocks), failures + 1
            if failures:
                return len(blocks), failures
    finally:
        shell.close()
        for d in ("src", "bin", ""):
            if os.path.isdir(os.path.join(stage, d)):
                os.rmdir(os.path.join(stage, d))
    return len(blocks), failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", required=True, help="the source tree")
    parser.add_argument("--build", required=True, help="the build directory (fieldfs binaries)")
    parser.add_argument("--group", default="", help="run the blocks of this group only")
    parser.add_argument("--timeout", type=int, default=60, help="seconds one step may take")
    parser.add_argument("--cxxflags", default="", help="flags for C++ recipes (the build's own)")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    global CXXFLAGS
    CXXFLAGS = args.cxxflags
    total = failed = 0
    for path in args.files:
        count, failures = run_file(path, args.group, os.path.abspath(args.source),
                                   os.path.abspath(args.build), args.timeout)
        print(f"{path}: {count} recipes, {failures} failed")
        total += count
        failed += failures
    if total == 0:
        print("no recipes found")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
