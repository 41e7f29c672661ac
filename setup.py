"""Map each top-level folder onto the `strom` namespace package.

A folder named `operator` cannot be a top-level package (the standard library's `operator`
is imported at start-up), so `operator/` becomes `strom.operator`, `broker/` becomes
`strom.broker`, and so on. Every subpackage is found here, so a regular (non-editable)
install contains all of them.
"""

from setuptools import find_packages, setup

FOLDERS = {
    "broker": "strom.broker",
    "operator": "strom.operator",
    "controlplane": "strom.controlplane",
    "cli": "strom.cli",
}

packages: list[str] = []
package_dir: dict[str, str] = {}
for folder, package in FOLDERS.items():
    package_dir[package] = folder
    packages.append(package)
    packages += [f"{package}.{sub}" for sub in find_packages(folder)]

# Files other than modules that a package needs at run time.
package_data = {"strom.controlplane.migrations": ["script.py.mako"]}

setup(packages=packages, package_dir=package_dir, package_data=package_data)
