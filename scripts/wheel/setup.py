"""Builds the platform wheel from a staged copy of sdk/python (scripts/build-wheel.sh): the same
package plus wanllmdb/_native (the binary and the web UI). The binary does not depend on the
Python version, so the tag is py3-none-<platform>; auditwheel then gives the manylinux tag."""
from setuptools import setup
from setuptools.dist import Distribution

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70.1
    from wheel.bdist_wheel import bdist_wheel  # type: ignore[no-redef]


class PlatformWheel(bdist_wheel):  # type: ignore[misc, valid-type]
    def finalize_options(self) -> None:
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self) -> tuple:
        return ("py3", "none", super().get_tag()[2])


class BinaryDistribution(Distribution):
    """Installs into platlib (auditwheel repairs only platlib): the package carries an ELF."""

    def has_ext_modules(self) -> bool:
        return True


setup(distclass=BinaryDistribution, cmdclass={"bdist_wheel": PlatformWheel})
