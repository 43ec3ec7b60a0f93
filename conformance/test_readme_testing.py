"""Issue 12: the README's "Testing with eventbridge-local" pytest example runs as written
(against this build's binary), so that the documented fixture and calls stay true."""

from __future__ import annotations

import subprocess
import sys

from support import REPO_ROOT, binary_path


def test_the_readme_pytest_example_passes(tmp_path):
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme[readme.index("## Testing with eventbridge-local"):]
    start = section.index("```python\n") + len("```python\n")
    example = section[start:section.index("```", start)]
    assert '["eventbridge-local", ' in example
    example = example.replace('["eventbridge-local", ', f'[{str(binary_path())!r}, ')
    (tmp_path / "test_example.py").write_text(example)
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "4 passed" in run.stdout, run.stdout
