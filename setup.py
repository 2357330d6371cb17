from pathlib import Path

from setuptools import find_packages, setup

version = {}
exec(Path("slr_pose/__init__.py").read_text(), version)

# pyarrow 17 is the last release beside numpy < 2 that the set-up here tests; 18 is the first with a Python 3.13 wheel
PYARROW = ['pyarrow>=14,<18; python_version < "3.13"', 'pyarrow>=18; python_version >= "3.13"']

setup(
    name="slr-pose",
    version=version["__version__"],
    description="Sign language recognition from MediaPipe body, hand and face landmarks",
    long_description=Path("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.10",
    packages=find_packages(include=["slr_pose", "slr_pose.*"]),
    include_package_data=True,
    install_requires=[
        # mediapipe 0.10.21 is the last release with the legacy Holistic models inside
        # the wheel (the offline default backend); it needs numpy < 2 and has no wheel
        # for Python 3.13, where a current mediapipe 1.x (Tasks API only) and numpy 2 install.
        'mediapipe==0.10.21; python_version < "3.13"',
        'numpy>=1.24,<2; python_version < "3.13"',
        'mediapipe>=1.2,<2; python_version >= "3.13"',
        'numpy>=1.26; python_version >= "3.13"',
        "numba>=0.59",
        "h5py>=3.8",
        "click>=8.1",
        "tqdm>=4.60",
        "torch>=2.1",
        "torch-geometric>=2.5",
        "scikit-learn>=1.3",
        "pyyaml>=6",
        "matplotlib>=3.7",
    ],
    extras_require={
        "kaggle": PYARROW,
        "pose-format": ["pose-format>=0.10"],
        "onnx": ["onnx>=1.16", "onnxruntime>=1.18", "onnxscript>=0.1"],
        "rgb": ["torchvision>=0.19"],
        "elan": ["pympi-ling>=1.70"],  # ELAN .eaf annotations
        "test": [
            "pytest>=8",
            "hypothesis>=6.100",
            *PYARROW,
            "pose-format>=0.10",
            "onnx>=1.16",
            "onnxruntime>=1.18",
            "onnxscript>=0.1",
            "pympi-ling>=1.70",
        ],
    },
    entry_points={"console_scripts": ["slr-pose=slr_pose.cli.main:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
        "Intended Audience :: Science/Research",
    ],
)
