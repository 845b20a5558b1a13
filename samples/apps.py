from django.apps import AppConfig

from predictions.signals import prediction_corrected, prediction_done


class SamplesConfig(AppConfig):
    name = "samples"

    def ready(self) -> None:
        # Imported here, not at the top: the receivers use models, which may load only once the
        # app registry is ready; ready() is Django's place for that.
        from .receivers import refresh_samples_after_correction, start_samples_stage

        prediction_done.connect(start_samples_stage, dispatch_uid="samples.start_samples_stage")
        prediction_corrected.connect(
            refresh_samples_after_correction, dispatch_uid="samples.refresh_samples_after_correction"
        )
