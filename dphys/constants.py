"""Physical constants in the units dphys uses: MeV, fm, fm^-1 (REFERENCES.md)."""

HBARC = 197.3269804  # hbar c [MeV fm]
ALPHA = 1 / 137.035999  # fine-structure constant

# masses [MeV]
M_PROTON = 938.272
M_NEUTRON = 939.565
M_NUCLEON = 938.918  # average of proton and neutron
M_OMEGA = 1672.45  # physical Omega-
M_OMEGA_LATTICE = 1711.5  # HAL QCD lattice Omega (Gongyo et al. 2018)
