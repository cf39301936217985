"""Latent: which directions of the GAN's latent space control which attributes of a digit.

* :mod:`.probes` — digit measures, latent samples, linear probes per generator stage;
* :mod:`.directions` — InterFaceGAN, GANSpace and SeFa directions; :mod:`.traversal` — walks along them;
* :mod:`.dynamics` — probes over training checkpoints; :mod:`.prior` — mixture-prior components;
* :mod:`.gan_maps` — attribution for the GAN (discriminator maps, latent-to-class);
* :mod:`.gan_style` — the conditional DCGAN: which input carries the digit, which the handwriting;
* :mod:`.plots` — their Displays.
"""

from xstyle.explain.latent.directions import (
    Direction,
    DirectionComparison,
    compare_directions,
    conditional_direction,
    ganspace_directions,
    interfacegan_directions,
    sefa_directions,
)
from xstyle.explain.latent.dynamics import (
    ProbeDynamicsResult,
    find_checkpoints,
    probe_dynamics,
)
from xstyle.explain.latent.gan_maps import (
    DiscriminatorMapsResult,
    LatentClassResult,
    discriminator_maps,
    latent_class_attribution,
)
from xstyle.explain.latent.gan_style import (
    GAN_STYLE_MEASURES,
    GanStyleResult,
    MeasureTarget,
    RequestedClassTarget,
    gan_style,
    two_way_shares,
)
from xstyle.explain.latent.prior import (
    PriorComponentsResult,
    prior_components,
)
from xstyle.explain.latent.probes import (
    ATTRIBUTES,
    GENERATOR_STAGES,
    LatentResult,
    LatentSamples,
    ProbeResult,
    ProbeTableResult,
    explain_latent,
    find_directions,
    fit_probe,
    measure_digits,
    probe_layers,
    sample_latents,
    traversal_alignment,
)
from xstyle.explain.latent.traversal import (
    TraversalResult,
    traverse,
)

__all__ = [
    "ATTRIBUTES",
    "GAN_STYLE_MEASURES",
    "GENERATOR_STAGES",
    "Direction",
    "DirectionComparison",
    "DiscriminatorMapsResult",
    "GanStyleResult",
    "LatentClassResult",
    "LatentResult",
    "LatentSamples",
    "MeasureTarget",
    "PriorComponentsResult",
    "ProbeDynamicsResult",
    "ProbeResult",
    "ProbeTableResult",
    "RequestedClassTarget",
    "TraversalResult",
    "compare_directions",
    "conditional_direction",
    "discriminator_maps",
    "explain_latent",
    "find_checkpoints",
    "find_directions",
    "fit_probe",
    "gan_style",
    "ganspace_directions",
    "interfacegan_directions",
    "latent_class_attribution",
    "measure_digits",
    "prior_components",
    "probe_dynamics",
    "probe_layers",
    "sample_latents",
    "sefa_directions",
    "traversal_alignment",
    "traverse",
    "two_way_shares",
]
