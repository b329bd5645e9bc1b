"""HTTP routes for controlling a call in progress and fetching its recording."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import Field, StringConstraints, model_validator

from teleplex.auth.deps import PrincipalDep
from teleplex.auth.principal import Principal
from teleplex.center.schemas import Device, PhoneNumber
from teleplex.core.crud import get_or_404
from teleplex.core.deps import SessionDep, SettingsDep
from teleplex.core.errors import NotFound, PermissionDenied, ServiceUnavailable
from teleplex.core.schemas import ApiInput, Id, MAX_ID
from teleplex.interactions.models import Interaction
from teleplex.voice.calls import VoiceChannel

router = APIRouter(prefix="/api/v1/interactions", tags=["calls"])
IdPath = Annotated[int, PathParam(ge=1, le=MAX_ID)]


class TransferToQueue(ApiInput):
    kind: Literal["queue"]
    queue_id: Id


class TransferToAgent(ApiInput):
    kind: Literal["agent"]
    agent_id: Id


class TransferToNumber(ApiInput):
    kind: Literal["number"]
    number: PhoneNumber


class TransferBody(ApiInput):
    to: Annotated[TransferToQueue | TransferToAgent | TransferToNumber, Field(discriminator="kind")]


class MonitorBody(ApiInput):
    mode: Literal["listen", "whisper", "barge"]
    device: Device  # the supervisor's phone, rung to join


class ConsultBody(ApiInput):
    """Whom to consult: an outside number, a named agent, or whoever a queue offers (exactly one)."""

    number: PhoneNumber | None = None
    agent_id: Id | None = None
    queue_id: Id | None = None

    @model_validator(mode="after")
    def _one(self) -> ConsultBody:
        if sum(v is not None for v in (self.number, self.agent_id, self.queue_id)) != 1:
            raise ValueError("give exactly one of number, agent_id, queue_id")
        return self


class DtmfBody(ApiInput):
    digits: Annotated[str, StringConstraints(pattern=r"^[0-9*#A-D]{1,32}$")]


def voice_of(request: Request) -> VoiceChannel:
    engine = getattr(request.app.state, "engine", None)
    voice = engine.handlers.get("voice") if engine is not None and engine.started else None
    if voice is None:
        raise ServiceUnavailable("voice is not running on this node (no Asterisk configured)")
    return voice


async def _controllable(session: SessionDep, principal: Principal, interaction_id: int) -> Interaction:
    """The agent on the call, a supervisor of its queue, or an admin may control it."""
    interaction = await get_or_404(session, Interaction, interaction_id, "interaction")
    if principal.is_admin:
        return interaction
    if principal.agent_id is not None and interaction.agent_id == principal.agent_id:
        return interaction
    if interaction.queue_id is not None and principal.supervises(interaction.queue_id):
        return interaction
    raise PermissionDenied(f"you may not control interaction {interaction_id}")


async def _act(request: Request, session: SessionDep, principal: Principal, interaction_id: int, action) -> None:  # noqa: ANN001
    voice = voice_of(request)
    await voice.engine.settle()  # the record may trail the call by a moment: judge on the latest
    await _controllable(session, principal, interaction_id)
    async with voice.engine.serial():
        await action(voice)
    await voice.engine.settle()


@router.post("/{interaction_id}/answer", status_code=204,
             summary="Answer an offered call from the console (agents whose answer mode is 'console')")  # fmt: skip
async def answer(interaction_id: IdPath, request: Request, session: SessionDep, principal: PrincipalDep) -> None:
    if principal.agent_id is None:
        raise PermissionDenied("only an agent can answer a call")
    voice = voice_of(request)
    await get_or_404(session, Interaction, interaction_id, "interaction")
    async with voice.engine.serial():
        await voice.answer(interaction_id, principal.agent_id)
    await voice.engine.settle()


@router.post("/{interaction_id}/hangup", status_code=204, summary="End the call")
async def hang_up(interaction_id: IdPath, request: Request, session: SessionDep, principal: PrincipalDep) -> None:
    await _act(request, session, principal, interaction_id, lambda v: v.hang_up(interaction_id))


@router.post("/{interaction_id}/hold", status_code=204, summary="Put the customer on hold (music)")
async def hold(interaction_id: IdPath, request: Request, session: SessionDep, principal: PrincipalDep) -> None:
    await _act(request, session, principal, interaction_id, lambda v: v.hold(interaction_id))


@router.post("/{interaction_id}/unhold", status_code=204, summary="Take the customer off hold")
async def unhold(interaction_id: IdPath, request: Request, session: SessionDep, principal: PrincipalDep) -> None:
    await _act(request, session, principal, interaction_id, lambda v: v.unhold(interaction_id))


@router.post("/{interaction_id}/dtmf", status_code=204, summary="Send touch tones to the far end")
async def dtmf(interaction_id: IdPath, body: DtmfBody, request: Request, session: SessionDep,
               principal: PrincipalDep) -> None:  # fmt: skip
    await _act(request, session, principal, interaction_id, lambda v: v.send_dtmf(interaction_id, body.digits))


@router.post("/{interaction_id}/transfer", status_code=204, summary="Blind transfer to a queue, an agent or a number")
async def transfer(interaction_id: IdPath, body: TransferBody, request: Request, session: SessionDep,
                   principal: PrincipalDep) -> None:  # fmt: skip
    to = body.to
    if isinstance(to, TransferToQueue):
        await _act(request, session, principal, interaction_id, lambda v: v.transfer_to_queue(interaction_id, to.queue_id))
    elif isinstance(to, TransferToAgent):
        await _act(request, session, principal, interaction_id, lambda v: v.transfer_to_agent(interaction_id, to.agent_id))
    else:
        await _act(request, session, principal, interaction_id, lambda v: v.transfer_to_number(interaction_id, to.number))


@router.post("/{interaction_id}/consult", status_code=204,
             summary="Attended transfer: hold the customer and call a number, an agent or a queue")  # fmt: skip
async def consult(interaction_id: IdPath, body: ConsultBody, request: Request, session: SessionDep,
                  principal: PrincipalDep) -> None:  # fmt: skip
    if body.agent_id is not None:
        await _act(request, session, principal, interaction_id, lambda v: v.consult_agent(interaction_id, body.agent_id))
    elif body.queue_id is not None:
        await _act(request, session, principal, interaction_id, lambda v: v.consult_queue(interaction_id, body.queue_id))
    else:
        await _act(request, session, principal, interaction_id, lambda v: v.consult(interaction_id, body.number))


@router.post("/{interaction_id}/consult/complete", status_code=204, summary="Hand the customer to the consulted party")
async def complete_consult(interaction_id: IdPath, request: Request, session: SessionDep,
                           principal: PrincipalDep) -> None:  # fmt: skip
    await _act(request, session, principal, interaction_id, lambda v: v.complete_consult(interaction_id))


@router.post("/{interaction_id}/consult/cancel", status_code=204, summary="Drop the consulted party, back to the customer")
async def cancel_consult(interaction_id: IdPath, request: Request, session: SessionDep,
                         principal: PrincipalDep) -> None:  # fmt: skip
    await _act(request, session, principal, interaction_id, lambda v: v.cancel_consult(interaction_id))


@router.post("/{interaction_id}/monitor", status_code=204, summary="Listen, whisper or barge (supervisors)")
async def monitor(interaction_id: IdPath, body: MonitorBody, request: Request, session: SessionDep,
                  principal: PrincipalDep) -> None:  # fmt: skip
    interaction = await get_or_404(session, Interaction, interaction_id, "interaction")
    if interaction.queue_id is None or not principal.supervises(interaction.queue_id):
        raise PermissionDenied(f"only a supervisor of its queue may monitor interaction {interaction_id}")
    principal.require("agents.control")
    await _act(request, session, principal, interaction_id, lambda v: v.monitor(interaction_id, body.mode, body.device))


@router.post("/{interaction_id}/recording/pause", status_code=204, summary="Pause recording (e.g. card numbers)")
async def pause_recording(interaction_id: IdPath, request: Request, session: SessionDep,
                          principal: PrincipalDep) -> None:  # fmt: skip
    await _act(request, session, principal, interaction_id, lambda v: v.set_recording(interaction_id, True))


@router.post("/{interaction_id}/recording/resume", status_code=204, summary="Resume recording")
async def resume_recording(interaction_id: IdPath, request: Request, session: SessionDep,
                           principal: PrincipalDep) -> None:  # fmt: skip
    await _act(request, session, principal, interaction_id, lambda v: v.set_recording(interaction_id, False))


@router.get("/{interaction_id}/recording", summary="Download the call's recording (WAV)", response_class=FileResponse)
async def recording(interaction_id: IdPath, session: SessionDep, settings: SettingsDep,
                    principal: PrincipalDep) -> FileResponse:  # fmt: skip
    """Those who may read the interaction may hear it: its agent, its queue's supervisors, admins."""
    interaction = await _controllable(session, principal, interaction_id)
    if not interaction.recording_path:
        raise NotFound(f"interaction {interaction_id} has no recording")
    if settings.recordings_dir is None:
        raise ServiceUnavailable("recordings are not reachable from this node: set TELEPLEX_RECORDINGS_DIR")
    path = (Path(settings.recordings_dir) / Path(interaction.recording_path).name).resolve()
    if not path.is_file():
        raise NotFound(f"the recording of interaction {interaction_id} is not on this node ({path.name})")
    return FileResponse(path, media_type="audio/wav", filename=f"interaction-{interaction_id}.wav")
