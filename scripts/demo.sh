#!/usr/bin/env bash
# The main job on the bundled real data: extract the MSL-150 videos with MediaPipe,
# import the MSL-150 keypoints, train a recogniser, evaluate it on held-out
# keypoints and on the freshly extracted videos, and predict one video.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-.venv}
SLR="$VENV/bin/slr-pose"
OUT=runs/demo
mkdir -p "$OUT"

echo "== 1. extract the bundled MSL-150 videos with MediaPipe Holistic"
"$SLR" extract data/msl150/videos.csv -o "$OUT/msl150-videos.h5"
"$SLR" inspect "$OUT/msl150-videos.h5"

echo "== 2. import the bundled MSL-150 keypoints (86 real sequences)"
"$SLR" import numpy data/msl150/keypoints_sample.npz --spec msl150 --language mfs --trim -o "$OUT/msl150-keypoints.h5"

echo "== 3. train (resumes if $OUT/run exists)"
"$SLR" train configs/demo_msl150.yaml -o "$OUT/run"

echo "== 4. evaluate on the held-out keypoints and on the extracted videos"
"$SLR" evaluate "$OUT/run" "$OUT/msl150-keypoints.h5" --split test
"$SLR" evaluate "$OUT/run" "$OUT/msl150-videos.h5"

echo "== 5. predict one video"
"$SLR" predict "$OUT/run" data/msl150/videos/doctor_001.mp4 -k 3
