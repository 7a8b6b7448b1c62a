"""The core never imports xlwings (it must run where no Excel and no xlwings are)."""
import pkgutil
import subprocess
import sys

import pyfuncs.core


def test_core_imports_without_xlwings():
    modules = [f"pyfuncs.core.{m.name}" for m in pkgutil.iter_modules(pyfuncs.core.__path__)]
    assert len(modules) >= 7
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'xlwings' or name.startswith('xlwings.'):\n"
        "            raise ImportError('xlwings is blocked in this test')\n"
        "sys.meta_path.insert(0, Block())\n"
        f"for m in {modules!r}:\n"
        "    __import__(m)\n"
        "assert not any(k.startswith('xlwings') for k in sys.modules)\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
