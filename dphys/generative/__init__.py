r"""Generative models of lattice fields: diffusion models of the U(1) gauge field and of the
phi^4 scalar field, built from `dphys.diffusion` (processes, losses, samplers), `dphys.lattice`
(actions, observables, the exact noised-plaquette physics) and `dphys.nn` (networks). This is
the top library layer: only the workflows and the CLI sit above it.
"""
