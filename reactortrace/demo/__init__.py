"""The bundled demo program (``python -m reactortrace.demo``, ``reactortrace demo``)."""
