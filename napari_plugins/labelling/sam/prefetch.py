"""Embedding the next images in the background while the user labels this one.

One worker thread (the encoder is the bottleneck and already uses the CPU's threads);
a job per key, submitted once; results land in the engine's disk cache as well.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from napari_plugins.labelling.sam.cache import ImageEmbedding


class EmbeddingPrefetcher:
    def __init__(self, embed: Callable[[Callable[[], object]], ImageEmbedding]) -> None:
        self._embed = embed
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sam-embed")
        self._jobs: dict[str, Future[ImageEmbedding]] = {}

    def submit(self, key: str, load_image: Callable[[], object]) -> Future[ImageEmbedding]:
        """Embed the image ``load_image`` returns, once per key."""
        job = self._jobs.get(key)
        if job is None or (job.done() and job.exception() is not None):
            job = self._pool.submit(self._embed, load_image)
            self._jobs[key] = job
        return job

    def job(self, key: str) -> Future[ImageEmbedding] | None:
        return self._jobs.get(key)

    def forget(self, keep: set[str]) -> None:
        """Drop finished jobs not in ``keep`` (their embeddings stay on disk)."""
        for key in [k for k, job in self._jobs.items() if k not in keep and job.done()]:
            del self._jobs[key]

    def shutdown(self) -> None:
        for job in self._jobs.values():
            job.cancel()
        self._pool.shutdown(wait=True)
