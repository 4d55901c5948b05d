"""A Feast repo folder whose online store is a running `larder serve` (Feast's remote online store)."""
from pathlib import Path


def write_remote_repo(repo: Path, url: str) -> None:
    repo.mkdir(parents=True, exist_ok=True)
    (repo / "feature_store.yaml").write_text(
        f"""project: larder_drop_in
registry: {repo / "registry.db"}
provider: local
online_store:
  type: remote
  path: {url}
entity_key_serialization_version: 3
"""
    )
