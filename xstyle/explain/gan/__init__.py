"""GAN: which directions of a generator's latent space control which attributes of its images.

* :mod:`.measures` — what is measured per image (digit, colour and shape measures, the user's own);
* :mod:`.probes` — latent samples, linear probes per generator stage;
* :mod:`.directions` — InterFaceGAN, GANSpace and SeFa directions; :mod:`.traversal` — walks along them;
* :mod:`.dynamics` — probes over training checkpoints; :mod:`.prior` — mixture-prior components;
* :mod:`.gan_maps` — attribution for the GAN (discriminator maps, latent-to-class);
* :mod:`.gan_style` — a conditional generator: which input carries the content (label), which the style (z);
* :mod:`.plots` — their Displays.
"""

from xstyle.explain.gan.directions import (
    Direction,
    DirectionComparison,
    compare_directions,
    conditional_direction,
    ganspace_directions,
    interfacegan_directions,
    sefa_directions,
)
from xstyle.explain.gan.dynamics import (
    ProbeDynamicsResult,
    find_checkpoints,
    probe_dynamics,
)
from xstyle.explain.gan.gan_maps import (
    DiscriminatorMapsResult,
    LatentClassResult,
    discriminator_maps,
    latent_class_attribution,
)
from xstyle.explain.gan.gan_style import (
    GAN_STYLE_MEASURES,
    GanStyleResult,
    MeasureTarget,
    RequestedClassTarget,
    gan_style,
    two_way_shares,
)
from xstyle.explain.gan.prior import (
    PriorComponentsResult,
    prior_components,
)
from xstyle.explain.gan.probes import (
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
from xstyle.explain.gan.traversal import (
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
