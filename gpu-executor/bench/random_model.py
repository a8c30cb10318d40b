"""The transformers peer of the bench scripts: KimiLinearForCausalLM with random weights built
on the GPU from a config (`from_config` under torch.device("cuda"), bf16, sdpa attention; no
checkpoint on disk), seeded, in eval mode. Imported by transformers_prefill.py and
transformers_generate.py."""
import json
import os

import torch
from transformers import AutoConfig, AutoModelForCausalLM

DEFAULT_CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kimi_linear_48b_4layers.json")


def build(config_path, seed=0):
    """The model of that config; prints the device and torch version beside the config's name."""
    with open(config_path) as f:
        cfg = AutoConfig.for_model(**json.load(f))
    cfg._attn_implementation = "sdpa"
    torch.manual_seed(seed)
    with torch.device("cuda"):
        model = AutoModelForCausalLM.from_config(cfg, torch_dtype=torch.bfloat16)
    model.eval()
    print("device:", torch.cuda.get_device_name(), "torch", torch.__version__, "config", os.path.basename(config_path),
          flush=True)
    return model
