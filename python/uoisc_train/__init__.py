"""uoisc_train: the PyTorch side of gr-uoisc (offline world, codec, training, export).

Never imports GNU Radio: it runs on any machine with torch and open_clip.
"""
