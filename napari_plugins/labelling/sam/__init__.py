"""SAM-assisted labelling: Segment Anything and a MobileSAM-size encoder, prompts, an
on-disk embedding cache and background precomputation. Only ``engine`` and ``build``
import torch and ``segment_anything``; the rest is plain Python and numpy."""
