"""Machine-learning artefacts (2xx): model files that unpickle, downloads that are not pinned."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from scrutiny.context import FileKind
from scrutiny.findings import Category, Confidence, Finding, Severity
from scrutiny.rules.base import (
    DEFAULT_CONTEXT,
    CallRule,
    Walk,
    argument,
    is_false,
    is_true,
    keyword,
    note,
    string_value,
)
from scrutiny.rules.reaching import reaching_values
from scrutiny.rules.resolve import module_value


class TorchLoadPickle(CallRule):
    """Model file loaded with torch.load's pickle reader

    What: torch.load with weights_only=False, or without weights_only (PyTorch before
    2.6 then unpickles everything).
    Why: a .pt/.pth file is a pickle; loading it with full unpickling runs any code the
    file's author put in it, so a model downloaded or uploaded from elsewhere takes over
    the process.
    Example:
        state = torch.load(path, map_location="cpu")
    Fix: torch.load(path, weights_only=True), or store weights as safetensors and read
    them with safetensors.torch.load_file.
    """

    id = "SCR230"
    name = "torch-load-pickle"
    category = Category.DESERIALIZATION
    cwe = 502
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    calls = ("torch.load", "torch.serialization.load")
    bandit = ("B614",)

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        if any(kw.arg is None for kw in call.keywords):
            return
        flag = keyword(call, "weights_only")
        if is_true(flag):
            return
        if is_false(flag):
            yield self.finding(call, f"{name}(weights_only=False) unpickles the file, running any code in it",
                               walk.src, scope=walk.scope_name, severity=Severity.HIGH)  # fmt: skip
        elif flag is None:
            yield self.finding(call, f"{name} without weights_only=True unpickles the file before PyTorch 2.6",
                               walk.src, scope=walk.scope_name, confidence=Confidence.MEDIUM)  # fmt: skip


HF_FUNCTIONS = {
    "from_pretrained": ("transformers", "diffusers", "sentence_transformers", "peft"),
    "load_dataset": ("datasets",),
    "hf_hub_download": ("huggingface_hub",),
    "snapshot_download": ("huggingface_hub",),
}
COMMIT = re.compile(r"^[0-9a-f]{7,40}$")


def _names_a_literal(node: ast.expr, walk: Walk) -> bool:
    """A name whose every value reaching it here is a string literal (a model id in the code)."""
    if not isinstance(node, ast.Name):
        return False
    values = reaching_values(node.id, node, walk.src)
    if values:
        return all(string_value(v) is not None for v in values)
    value, bound = module_value(node, walk.src, walk.function)
    return bool(bound) and value is not None and string_value(value) is not None


class HubDownloadUnpinned(CallRule):
    """Hugging Face model or data downloaded without a pinned commit

    What: from_pretrained (transformers and related libraries), datasets.load_dataset,
    huggingface_hub.hf_hub_download and snapshot_download called for a Hub repository
    without revision= (or with a branch or tag name rather than a commit hash). Local
    paths, revisions held in variables and **options are left alone. A repository the
    code does not name (a parameter, an attribute, a configuration value) is low: the
    caller who chooses the repository chooses its revision too.
    Why: a branch or tag moves; whoever can push to the repository (or take it over)
    changes the weights, the tokenizer or the remote code the program loads next time,
    and model files can carry code.
    Example:
        model = AutoModel.from_pretrained("org/model")
    Fix: pin the commit: AutoModel.from_pretrained("org/model",
    revision="5d0f2e8a7f1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d"), and prefer safetensors weights.
    """

    id = "SCR231"
    name = "hub-download-unpinned"
    category = Category.DESERIALIZATION
    cwe = 494
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    methods = ("from_pretrained",)
    calls = (
        "datasets.load_dataset",
        "huggingface_hub.hf_hub_download",
        "huggingface_hub.snapshot_download",
        "huggingface_hub.file_download.hf_hub_download",
        "huggingface_hub._snapshot_download.snapshot_download",
    )
    context = {**DEFAULT_CONTEXT, FileKind.TEST: note("tests download small public fixtures")}
    bandit = ("B615",)

    def check_call(self, call: ast.Call, name: str, walk: Walk) -> Iterator[Finding]:
        function = name.rsplit(".", 1)[-1]
        libraries = HF_FUNCTIONS.get(function, ())
        imported = {target.split(".", 1)[0] for target in walk.src.aliases.values()}
        if not any(lib in imported for lib in libraries):
            return
        repo = argument(call, "repo_id", 0) if function.endswith("download") else argument(call, "", 0)
        repo_text = string_value(repo)
        if repo_text is not None and repo_text.startswith(("/", ".", "~")):
            return  # a local directory
        revision = keyword(call, "revision") or keyword(call, "commit_id")
        if revision is not None and not isinstance(revision, ast.Constant):
            return  # chosen elsewhere; cannot be judged here
        if revision is None and any(kw.arg is None for kw in call.keywords):
            return  # **options may carry the revision
        text = string_value(revision)
        if text is not None and COMMIT.match(text):
            return
        problem = "without a revision" if revision is None else f"at the moving revision '{text}'"
        if repo is not None and repo_text is None and not _names_a_literal(repo, walk):
            # The repository comes from a caller or the configuration: whoever names it
            # chooses its revision too, so the pin belongs there, not in this pass-through.
            yield self.finding(call, f"{function} downloads from the Hub {problem}; the repository is chosen by "
                               f"the caller ({ast.unparse(repo)[:40]}), who can pin it", walk.src,
                               scope=walk.scope_name, severity=Severity.LOW)  # fmt: skip
            return
        yield self.finding(call, f"{function} downloads from the Hub {problem}", walk.src, scope=walk.scope_name)
